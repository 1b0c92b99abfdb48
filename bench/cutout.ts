import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { packageRoot } from '../src/vision/models/model-files.ts';
import { cutoutSpecialist } from '../src/vision/tasks/segment/cutout.ts';
import { benchContext, benchSettings, imageInput, reason, TESTDATA } from './context.ts';
import { formatGoal, formatRatio, measureInterleaved, row, versus } from './measure.ts';
import type { BenchSection, Goal, MeasureOptions, SectionReport } from './measure.ts';
import { RecordingRegistry } from './recording.ts';

const SIZE = 1024;

async function benchImage(): Promise<{ png: Buffer; what: string }> {
  const astronaut = path.join(TESTDATA, 'astronaut.png');
  if (existsSync(astronaut)) {
    return { png: await sharp(astronaut).resize(SIZE, SIZE).png().toBuffer(), what: 'astronaut.png upscaled to 1024×1024' };
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${SIZE}" height="${SIZE}"><rect width="100%" height="100%" fill="#ddd"/><circle cx="500" cy="520" r="300" fill="#c33"/></svg>`;
  return { png: await sharp(Buffer.from(svg)).png().toBuffer(), what: 'a synthetic disc, 1024×1024 (testdata absent)' };
}

type RemoveBackground = (image: Blob, config: Record<string, unknown>) => Promise<Blob>;

export const cutoutSection: BenchSection = {
  name: 'cutout',
  async run(options: MeasureOptions): Promise<SectionReport> {
    const settings = benchSettings();
    const recorder = new RecordingRegistry(settings);
    const context = await benchContext(settings, recorder.models);
    const lines: string[] = [];
    try {
      const { png, what } = await benchImage();
      const file = path.join(context.tmpDir, 'bench.png');
      await fs.writeFile(file, png);
      const media = imageInput(png, SIZE, SIZE, file);
      const pipeline = () => cutoutSpecialist.run({ task: 'cutout', media: [media], args: {} }, context);
      const floor = await recorder.record(pipeline);

      const contenders: { label: string; fn: () => Promise<unknown> }[] = [
        { label: 'floor: ISNet session.run alone', fn: floor },
        { label: 'our pipeline: cutout specialist.run', fn: pipeline },
      ];
      // The weights' own package, pointed at its local dist so that nothing is fetched.
      let packageNote: string | undefined;
      const root = packageRoot('@imgly/background-removal-node');
      if (root) {
        try {
          const mod = (await import('@imgly/background-removal-node')) as unknown as { removeBackground: RemoveBackground };
          const config = { publicPath: pathToFileURL(path.join(root, 'dist') + path.sep).href, model: 'medium', output: { format: 'image/png' } };
          const blob = new Blob([new Uint8Array(png)], { type: 'image/png' });
          await mod.removeBackground(blob, config);
          contenders.push({ label: '@imgly/background-removal-node removeBackground', fn: () => mod.removeBackground(blob, config) });
        } catch (error) {
          packageNote = `@imgly/background-removal-node could not run offline here: ${reason(error)}`;
        }
      } else {
        packageNote = '@imgly/background-removal-node is not installed';
      }

      const results = await measureInterleaved(contenders, options);
      const [f, p, pkg] = results as [(typeof results)[0], (typeof results)[0], (typeof results)[0] | undefined];
      lines.push(
        `  image: ${what}; ${settings.inferenceThreads} intra-op threads; median of ${options.runs ?? 5} (after ${options.warmup ?? 1} warm-up), runs interleaved`,
      );
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
        { text: 'pipeline / floor', limit: 1.1, actual: p.medianMs / f.medianMs },
        { text: 'pipeline / @imgly removeBackground', limit: 0.3, actual: pkg ? p.medianMs / pkg.medianMs : undefined },
      ];
      lines.push(...goals.map(formatGoal));
      return { title: 'cutout (ISNet medium, 1024×1024)', lines, goals };
    } finally {
      await recorder.models.dispose();
      await context.cleanup();
    }
  },
};
