/**
 * OCR: lines rendered with sharp's SVG text in three fonts and two sizes, read back (exact lines, character
 * accuracy); and pictures without any text, where every reading is a false one (a cut-out cup, photos).
 */
import path from 'node:path';
import sharp from 'sharp';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { ocrSpecialist } from '../src/vision/tasks/understand/ocr.ts';
import { evalContext, evalSettings, mediaOf, TESTDATA } from './context.ts';
import { characterAccuracy } from './metrics.ts';
import { horseScene } from './scenes.ts';
import type { EvalReport, EvalRow, EvalSection } from './table.ts';

const LINES = ['HELLO WORLD', 'Vitron 2024', 'cut out the cat', 'OPEN 9 TO 5'];
const FONTS = ['DejaVu Sans', 'DejaVu Serif', 'DejaVu Sans Mono'];
const SIZES = [24, 44];

function textPng(font: string, size: number): Promise<Buffer> {
  const lineHeight = Math.round(size * 1.8);
  const height = lineHeight * LINES.length + size;
  const body = LINES.map((l, i) => `<text x="${size}" y="${lineHeight * (i + 1)}" font-family="${font}" font-size="${size}" fill="#111">${l}</text>`).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size * 14}" height="${height}"><rect width="100%" height="100%" fill="#fafafa"/>${body}</svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** A coffee cup with a rim and a handle, cut out on transparency: its rim is an "O" to a careless reader. */
function cupPng(): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="300" height="300"><path d="M70 90 L90 250 Q150 275 210 250 L230 90 Z" fill="#f4efe6" stroke="#6b4b2a" stroke-width="6"/><ellipse cx="150" cy="90" rx="80" ry="22" fill="#4a2e18" stroke="#6b4b2a" stroke-width="6"/><path d="M226 120 Q290 130 270 180 Q255 215 214 205" fill="none" stroke="#f4efe6" stroke-width="14"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

const norm = (s: string) => s.replace(/\s+/g, ' ').trim();

export const ocrSection: EvalSection = {
  name: 'ocr',
  async run(): Promise<EvalReport> {
    const settings = evalSettings();
    const models = new ModelRegistry({ settings });
    const context = await evalContext(settings, models);
    try {
      const rows: EvalRow[] = [];
      for (const size of SIZES) {
        let exact = 0;
        let chars = 0;
        for (const font of FONTS) {
          const result = await ocrSpecialist.run({ task: 'ocr', media: [await mediaOf(await textPng(font, size), context)], args: {} }, context);
          const read = (result.boxes ?? []).length === 0 ? [] : (result.text ?? '').split('\n').map(norm);
          exact += LINES.filter((line, i) => read[i] === line).length / LINES.length;
          chars += characterAccuracy(read.join('\n'), LINES.join('\n'));
        }
        rows.push({
          way: 'ppocr-v4',
          on: `${LINES.length} lines × ${FONTS.length} fonts at ${size} px`,
          metrics: { 'exact lines': exact / FONTS.length, 'char accuracy': chars / FONTS.length },
        });
      }
      const textless = [
        { what: 'cut-out cup', png: await cupPng() },
        { what: 'chelsea.png', png: await sharp(path.join(TESTDATA, 'chelsea.png')).png().toBuffer() },
        { what: 'horse scene', png: (await horseScene(400, 328, { x: 0, y: 0, w: 400, h: 328 })).png },
      ];
      const readings: string[] = [];
      for (const picture of textless) {
        const result = await ocrSpecialist.run({ task: 'ocr', media: [await mediaOf(picture.png, context)], args: {} }, context);
        const boxes = result.boxes ?? [];
        if (boxes.length > 0) readings.push(`${picture.what}: ${boxes.map((b) => JSON.stringify(b.label ?? '')).join(', ')}`);
      }
      rows.push({
        way: 'ppocr-v4',
        on: `${textless.length} pictures without text (${textless.map((t) => t.what).join(', ')})`,
        metrics: { 'false readings per picture': readings.length / textless.length },
      });
      return {
        title: 'ocr: rendered text read back; false readings where there is none',
        rows,
        notes: readings.map((r) => `false reading: ${r}`),
        comparisons: {},
      };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
