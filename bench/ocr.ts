import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ocrSpecialist } from '../src/vision/tasks/understand/ocr.ts';
import { benchContext, benchSettings, imageInput, reason } from './context.ts';
import { formatGoal, formatRatio, measureInterleaved, row, versus } from './measure.ts';
import type { BenchSection, Goal, MeasureOptions, SectionReport } from './measure.ts';
import { RecordingRegistry } from './recording.ts';

const LINES = ['HELLO WORLD', 'Vitron 2024', 'The quick brown fox', 'jumps over the lazy dog', 'Open 9:00 - 17:30'];

async function textPng(): Promise<{ png: Buffer; width: number; height: number }> {
  const width = 960;
  const height = 80 * LINES.length + 40;
  const body = LINES.map((l, i) => `<text x="30" y="${70 + i * 80}" font-family="DejaVu Sans, sans-serif" font-size="48" fill="#111">${l}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#fff"/>${body}</svg>`;
  return { png: await sharp(Buffer.from(svg)).png().toBuffer(), width, height };
}

interface GutenOcr {
  detect(image: string): Promise<{ text: string }[]>;
}

export const ocrSection: BenchSection = {
  name: 'ocr',
  async run(options: MeasureOptions): Promise<SectionReport> {
    const settings = benchSettings();
    const recorder = new RecordingRegistry(settings);
    const context = await benchContext(settings, recorder.models);
    const lines: string[] = [];
    try {
      const { png, width, height } = await textPng();
      const file = path.join(context.tmpDir, 'text.png');
      await fs.writeFile(file, png);
      const media = imageInput(png, width, height, file);
      const pipeline = () => ocrSpecialist.run({ task: 'ocr', media: [media], args: {} }, context);
      const read = await pipeline();
      const floor = await recorder.record(pipeline);
      const contenders: { label: string; fn: () => Promise<unknown> }[] = [
        { label: 'floor: det + rec session.run alone', fn: floor },
        { label: 'our pipeline: ocr specialist.run', fn: pipeline },
      ];
      let packageNote: string | undefined;
      let theirs = '';
      try {
        const mod = (await import('@gutenye/ocr-node')) as unknown as { default: { create(options?: object): Promise<GutenOcr> } };
        const ocr = await mod.default.create();
        theirs = (await ocr.detect(file)).map((l) => l.text).join(' | ');
        contenders.push({ label: '@gutenye/ocr-node detect', fn: () => ocr.detect(file) });
      } catch (error) {
        packageNote = `@gutenye/ocr-node could not run offline here: ${reason(error)}`;
      }
      const results = await measureInterleaved(contenders, options);
      const [f, p, pkg] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0] | undefined];
      lines.push(`  image: ${LINES.length} rendered lines, ${width}×${height}; median of ${options.runs ?? 5}, runs interleaved`);
      lines.push(`  ours read:   ${read.text!.split('\n').join(' | ')}`);
      if (theirs) lines.push(`  theirs read: ${theirs}`);
      lines.push(row(f.label, f, '1.00× floor'));
      lines.push(row(p.label, p, `${versus(p, f)}, overhead ${(p.medianMs - f.medianMs).toFixed(0)} ms`));
      if (pkg) {
        lines.push(row(pkg.label, pkg, versus(pkg, f)));
        lines.push(
          `  ours / theirs: ${versus(p, pkg, '')}; with zero overhead it could not go below ${formatRatio(f.medianMs / pkg.medianMs)} (floor / theirs)`,
        );
      }
      if (packageNote) lines.push(`  ${packageNote}`);
      const goals: Goal[] = [
        // Issue 17: our own work around the two models (decode, pre/post-processing, the boxes picture) at most 5 %.
        { text: 'pipeline / det + rec floor', limit: 1.05, actual: p.medianMs / f.medianMs },
        { text: 'pipeline / @gutenye/ocr-node', limit: 0.4, actual: pkg ? p.medianMs / pkg.medianMs : undefined },
      ];
      lines.push(...goals.map(formatGoal));
      return { title: 'ocr (PP-OCRv4 det + rec)', lines, goals };
    } finally {
      await recorder.models.dispose();
      await context.cleanup();
    }
  },
};
