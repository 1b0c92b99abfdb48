/**
 * `npm run eval [-- section…]`: each specialist's quality against a reference it did not choose (a real
 * silhouette, the true pixels under a hole, the original before a downscale, rendered text, hand-measured
 * boxes), every way ready on this machine side by side. The comparisons that decide between installed models
 * are stored for this machine, and model choice follows them. Add a section by appending to SECTIONS.
 */
import os from 'node:os';
import { evalSettings } from './context.ts';
import { detectionSection } from './detection.ts';
import { inpaintSection } from './inpaint.ts';
import { ocrSection } from './ocr.ts';
import { runEval } from './runner.ts';
import { segmentationSection } from './segmentation.ts';
import { upscaleSection } from './upscale.ts';

export const SECTIONS = [segmentationSection, inpaintSection, upscaleSection, ocrSection, detectionSection];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((name) => !SECTIONS.some((s) => s.name === name));
if (unknown.length > 0) {
  console.error(`No eval section ${unknown.join(', ')}. Sections: ${SECTIONS.map((s) => s.name).join(', ')}.`);
  process.exit(2);
}
const settings = evalSettings();
console.log(`vitron-chat eval: ${os.hostname()}, node ${process.version}, ${os.cpus().length} CPUs, ${new Date().toISOString()}`);
const outcome = await runEval(
  SECTIONS.filter((s) => wanted.length === 0 || wanted.includes(s.name)),
  settings.DATA_DIR,
  (line) => console.log(line),
);
process.exitCode = outcome.failed.length > 0 ? 1 : 0;
