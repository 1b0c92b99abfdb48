/**
 * The pulled models (catalog `huggingface` sources), each where it is installed in MODELS_DIR: the median
 * time of the task it serves, against the npm-shipped way of doing the same task (or, where there is none,
 * the nearest npm-weight task on the same photo), measured in the same run. This is how an operator fills
 * the "CPU time" of docs/models.md after `npm run models -- pull <name>`: `npm run bench -- pulled`.
 * A model that is not installed gets a line saying how to pull it; files far smaller than the catalog's size
 * are flagged (the test fixtures are a few kilobytes), so fixture timings are never taken for real ones.
 */
import { SD_TURBO_MODELS } from '../src/vision/engines/sd-turbo.ts';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CATALOG, catalogEntry } from '../models/catalog.ts';
import type { Task } from '../src/core/tasks.ts';
import { DEFAULT_INPAINTERS, openCvInpainter } from '../src/vision/models/inpainter-choice.ts';
import type { Inpainter } from '../src/vision/models/inpainter.ts';
import { maskFromBox } from '../src/vision/ops/masks.ts';
import { swin2srUpscaler } from '../src/vision/models/swin2sr.ts';
import { ESRGAN_UPSCALERS } from '../src/vision/models/esrgan.ts';
import { locateModel } from '../src/vision/models/model-files.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { decodeImage } from '../src/vision/ops/raw-image.ts';
import { specialistFor } from '../src/vision/registry.ts';
import type { LoadedMedia, SpecialistContext, SpecialistInput } from '../src/vision/specialist.ts';
import { benchContext, benchSettings, imageInput, TESTDATA } from './context.ts';
import { measureInterleaved, row, versus } from './measure.ts';
import type { BenchSection, MeasureOptions, SectionReport } from './measure.ts';

/** Installed files under a tenth of the catalog's size are not the real weights (a fixture, a stub, a cut download). */
const REAL_SIZE_FRACTION = 0.1;

interface Contender {
  label: string;
  fn: () => Promise<unknown>;
}

/** One pulled model's comparison: its own run, and the reference it is read against. */
interface PulledCase {
  model: string;
  build(context: SpecialistContext, photos: Photos): Promise<{ subject: Contender; reference: Contender; referenceName: string }>;
}

interface Photos {
  astronaut: LoadedMedia;
  small: LoadedMedia;
  /** The astronaut with a fresh sha256 on every call: an image-embedding cache cannot serve it. */
  freshAstronaut(): LoadedMedia;
}

function run(task: Task, media: LoadedMedia, args: Record<string, unknown>, context: SpecialistContext): () => Promise<unknown> {
  const input: SpecialistInput = { task, media: [media], args };
  return () => specialistFor(task)!.run(input, context);
}

function inpainterFor(model: string): Inpainter {
  const found = DEFAULT_INPAINTERS.find((i) => i.model === model);
  if (found === undefined) throw new Error(`no inpainter runs ${model}`);
  return found;
}

/** The same 80² hole on the astronaut, for every inpainter. */
async function inpaintCase(model: string, context: SpecialistContext, photos: Photos) {
  const image = await decodeImage(photos.astronaut.bytes, context.limits);
  const mask = maskFromBox(image.width, image.height, [300, 40, 380, 120]);
  const inpainter = inpainterFor(model);
  return {
    subject: { label: `inpaint 80² hole with ${model} (astronaut 512²)`, fn: () => inpainter.inpaint(image, mask, context) },
    reference: { label: 'reference: OpenCV Telea, same hole', fn: () => openCvInpainter.inpaint(image, mask, context) },
    referenceName: 'OpenCV',
  };
}

const CASES: readonly PulledCase[] = [
  {
    model: 'slimsam-77',
    async build(context, photos) {
      const clicks = { points: [[256, 200]] };
      return {
        subject: {
          label: 'segment_at, a new picture (encoder + decoder)',
          fn: () => specialistFor('segment_at')!.run({ task: 'segment_at', media: [photos.freshAstronaut()], args: clicks }, context),
        },
        reference: { label: 'reference: segment_at again on a seen picture (decoder)', fn: run('segment_at', photos.astronaut, clicks, context) },
        referenceName: 'cached click',
      };
    },
  },
  {
    model: 'clipseg-rd64',
    async build(context, photos) {
      return {
        subject: { label: 'segment "the sky" (CLIPSeg, astronaut 512²)', fn: run('segment', photos.astronaut, { phrase: 'the sky' }, context) },
        reference: { label: 'reference: segment "the person" (CenterNet + ISNet)', fn: run('segment', photos.astronaut, { phrase: 'the person' }, context) },
        referenceName: 'COCO path',
      };
    },
  },
  {
    model: 'owlvit-base',
    async build(context, photos) {
      return {
        subject: { label: 'ground "the flag" (OWL-ViT, astronaut 512²)', fn: run('ground', photos.astronaut, { phrase: 'the flag' }, context) },
        reference: { label: 'reference: ground "the person" (CenterNet)', fn: run('ground', photos.astronaut, { phrase: 'the person' }, context) },
        referenceName: 'CenterNet',
      };
    },
  },
  {
    model: 'florence-2-base',
    async build(context, photos) {
      return {
        subject: {
          label: 'caption (Florence-2, astronaut 512²)',
          fn: run('caption', photos.astronaut, {}, { ...context, settings: { ...context.settings, LLM_URL: undefined } }),
        },
        reference: { label: 'reference: detect everything (CenterNet)', fn: run('detect', photos.astronaut, {}, context) },
        referenceName: 'CenterNet detect',
      };
    },
  },
  { model: 'migan', build: (context, photos) => inpaintCase('migan', context, photos) },
  { model: 'lama', build: (context, photos) => inpaintCase('lama', context, photos) },
  {
    model: 'swin2sr-x2',
    async build(context, photos) {
      const image = await decodeImage(photos.small.bytes, context.limits);
      const esrgan = ESRGAN_UPSCALERS.find((u) => u.factors.includes(2))!;
      return {
        subject: { label: 'upscale ×2 with Swin2SR (astronaut 256²)', fn: () => swin2srUpscaler.upscale(image, 2, context) },
        reference: { label: 'reference: ESRGAN-slim ×2, same image', fn: () => esrgan.upscale(image, 2, context) },
        referenceName: 'ESRGAN-slim',
      };
    },
  },
  {
    model: 'depth-anything-v2-small',
    async build(context, photos) {
      return {
        subject: { label: 'depth map (Depth Anything, astronaut 512²)', fn: run('depth', photos.astronaut, {}, context) },
        reference: { label: 'reference: cut-out (ISNet), same photo', fn: run('cutout', photos.astronaut, {}, context) },
        referenceName: 'ISNet cut-out',
      };
    },
  },
];

async function photo(dir: string, size?: number): Promise<LoadedMedia> {
  let pipeline = sharp(path.join(TESTDATA, 'astronaut.png'));
  if (size !== undefined) pipeline = pipeline.resize(size, size);
  const png = await pipeline.png().toBuffer();
  const meta = await sharp(png).metadata();
  const file = path.join(dir, `astronaut-${size ?? 'orig'}.png`);
  await fs.writeFile(file, png);
  return imageInput(png, meta.width!, meta.height!, file);
}

/** Bytes of the model's files where they are installed. */
async function installedBytes(name: string, modelsDir: string): Promise<number> {
  const location = locateModel(catalogEntry(name)!, modelsDir);
  if (location === undefined) return 0;
  let total = 0;
  for (const file of location.files) total += (await file.read()).length;
  return total;
}

export const pulledSection: BenchSection = {
  name: 'pulled',
  async run(options: MeasureOptions): Promise<SectionReport> {
    const settings = benchSettings();
    const models = new ModelRegistry({ settings });
    const context = await benchContext(settings, models);
    const lines: string[] = [`  MODELS_DIR ${settings.MODELS_DIR}; median of ${options.runs ?? 5} (after ${options.warmup ?? 1} warm-up), runs interleaved`];
    try {
      const astronaut = await photo(context.tmpDir);
      const small = await photo(context.tmpDir, 256);
      let fresh = 0;
      const photos: Photos = {
        astronaut,
        small,
        freshAstronaut: () => ({ ...astronaut, info: { ...astronaut.info, id: `fresh-${++fresh}`, sha256: `bench-fresh-${fresh}` } }),
      };
      for (const c of CASES) {
        const entry = catalogEntry(c.model)!;
        if (!models.isInstalled(c.model)) {
          lines.push(`  ${c.model}: not installed — npm run models -- pull ${c.model}`);
          continue;
        }
        const bytes = await installedBytes(c.model, settings.MODELS_DIR);
        const fixture = bytes < entry.approxBytes * REAL_SIZE_FRACTION;
        lines.push(
          `  ${c.model}: ${(bytes / 1e6).toFixed(bytes < 1e6 ? 3 : 0)} MB installed${fixture ? ` — far below the catalog's ${(entry.approxBytes / 1e6).toFixed(0)} MB: not the real weights, these times say nothing of them` : ''}`,
        );
        const { subject, reference, referenceName } = await c.build(context, photos);
        const [r, s] = await measureInterleaved([reference, subject], options);
        lines.push(row(r!.label, r!, '1.00× reference'));
        lines.push(row(s!.label, s!, versus(s!, r!, referenceName)));
      }
      // SD-Turbo's exports are timed by the generation section (pipeline against its raw session.run calls).
      const elsewhere = new Set<string>(SD_TURBO_MODELS.cpu);
      const uncovered = CATALOG.filter(
        (e) => e.source.kind === 'huggingface' && e.notRunYet === undefined && !elsewhere.has(e.name) && !CASES.some((c) => c.model === e.name),
      );
      if (uncovered.length > 0) lines.push(`  no bench case yet for: ${uncovered.map((e) => e.name).join(', ')}`);
      return { title: 'pulled models: their tasks on CPU, against the npm-weight way', lines, goals: [] };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
