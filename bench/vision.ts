/**
 * The CPU specialists that ship with npm weights: per task, the median time of our whole specialist
 * against the raw model call alone on the same input (the floor), and one per-frame video task against
 * ffmpeg decoding and encoding the same clip with nothing in between.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { Task } from '../src/core/tasks.ts';
import { AAC_ARGS, h264Args } from '../src/media/ffmpeg/encode-args.ts';
import { inputArgs, runFfmpeg } from '../src/media/ffmpeg/run.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { decodeImage } from '../src/vision/ops/raw-image.ts';
import { specialistFor } from '../src/vision/registry.ts';
import type { LoadedMedia, SpecialistContext } from '../src/vision/specialist.ts';
import { tfjs } from '../src/vision/models/tfjs-runtime.ts';
import { opencv } from '../src/vision/ops/opencv.ts';
import { benchContext, benchSettings, imageInput, TESTDATA } from './context.ts';
import { videoMedia } from '../test/helpers/specialist-context.ts';
import { measureInterleaved, row, versus } from './measure.ts';
import type { BenchSection, MeasureOptions, SectionReport } from './measure.ts';

interface Case {
  title: string;
  task: Task;
  args: Record<string, unknown>;
  region?: { box: [number, number, number, number] };
  media: LoadedMedia;
  floorLabel: string;
  /** Builds the raw model call on an input prepared once, outside the timing. */
  floor(): Promise<() => Promise<unknown>>;
}

async function photo(name: string, dir: string, resize?: number): Promise<LoadedMedia> {
  let pipeline = sharp(path.join(TESTDATA, name));
  if (resize) pipeline = pipeline.resize(resize, resize);
  const png = await pipeline.png().toBuffer();
  const meta = await sharp(png).metadata();
  const file = path.join(dir, `${path.parse(name).name}-${resize ?? 'orig'}.png`);
  await fs.writeFile(file, png);
  return imageInput(png, meta.width!, meta.height!, file);
}

/** One graph-model call on a zero tensor of its input shape, read back to the CPU like the pipeline does. */
async function graphFloor(models: ModelRegistry, name: string, shape: [number, number, number, number]): Promise<() => Promise<unknown>> {
  const { tf } = await tfjs();
  const model = await models.graphModel(name);
  const input = tf.zeros(shape);
  return async () => {
    const out = model.execute(input);
    const outputs = Array.isArray(out) ? out : [out];
    await Promise.all(outputs.map((t) => t.data()));
    tf.dispose(outputs);
  };
}

/** CenterNet then ISNet, each called once on a zero input of its shape: the two raw model calls segment-by-phrase makes. */
async function detectThenMaskFloor(models: ModelRegistry): Promise<() => Promise<unknown>> {
  const centernet = await graphFloor(models, 'centernet-coco', [1, 512, 512, 3]);
  const isnet = await models.session('isnet');
  const input = new ort.Tensor('float32', new Float32Array(3 * 1024 * 1024), [1, 3, 1024, 1024]);
  return async () => {
    await centernet();
    await isnet.run({ [isnet.inputNames[0]!]: input }, ['output']);
  };
}

/** cv.inpaint (Telea) alone on Mats built once: the same crop our remove hands to OpenCV. */
async function inpaintFloor(image: LoadedMedia, box: [number, number, number, number], context: SpecialistContext): Promise<() => Promise<unknown>> {
  const cv = await opencv();
  const raw = await decodeImage(image.bytes, context.limits);
  const rgba = cv.matFromArray(raw.height, raw.width, cv.CV_8UC4, raw.data);
  const rgb = new cv.Mat();
  cv.cvtColor(rgba, rgb, cv.COLOR_RGBA2RGB);
  const mask = cv.Mat.zeros(raw.height, raw.width, cv.CV_8UC1);
  cv.rectangle(mask, new cv.Point(box[0], box[1]), new cv.Point(box[2], box[3]), new cv.Scalar(255), -1);
  const out = new cv.Mat();
  return async () => {
    cv.inpaint(rgb, mask, out, 5, cv.INPAINT_TELEA);
  };
}

async function upscaleFloor(models: ModelRegistry, size: number): Promise<() => Promise<unknown>> {
  const { tf } = await tfjs();
  const model = await models.layersModel('esrgan-slim-x2');
  const input = tf.zeros([1, size, size, 3]);
  return async () => {
    const out = model.predict(input) as import('@tensorflow/tfjs-core').Tensor;
    await out.data();
    out.dispose();
  };
}

/** A 4-second 480×270 clip of the astronaut slowly zooming (the face moves and grows), with a tone. */
async function faceClip(context: SpecialistContext): Promise<LoadedMedia> {
  const file = path.join(context.tmpDir, 'faces.mp4');
  await runFfmpeg(context.ffmpeg, [
    '-loop',
    '1',
    '-framerate',
    '25',
    ...inputArgs(path.join(TESTDATA, 'astronaut.png')),
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=44100',
    '-t',
    '4',
    '-vf',
    "scale=960:-2,zoompan=z='1+0.002*on':d=1:s=480x270:fps=25",
    ...h264Args(),
    ...AAC_ARGS,
    '-shortest',
    file,
  ]);
  return videoMedia(context, file);
}

export const visionSection: BenchSection = {
  name: 'vision',
  async run(options: MeasureOptions): Promise<SectionReport> {
    const settings = benchSettings();
    const models = new ModelRegistry({ settings });
    const context = await benchContext(settings, models);
    const lines: string[] = [];
    try {
      const astronaut = await photo('astronaut.png', context.tmpDir);
      const cat = await photo('chelsea.png', context.tmpDir);
      const small = await photo('astronaut.png', context.tmpDir, 256);
      const removeBox: [number, number, number, number] = [300, 40, 380, 120];
      const cases: Case[] = [
        {
          title: 'detect everything (astronaut 512²)',
          task: 'detect',
          args: {},
          media: astronaut,
          floorLabel: 'CenterNet execute 512²',
          floor: () => graphFloor(models, 'centernet-coco', [1, 512, 512, 3]),
        },
        {
          title: 'segment "the cat" (chelsea 451×300)',
          task: 'segment',
          args: { phrase: 'the cat' },
          media: cat,
          floorLabel: 'CenterNet 512² + ISNet 1024² run',
          floor: () => detectThenMaskFloor(models),
        },
        {
          title: 'blur the faces (astronaut 512²)',
          task: 'adjust',
          args: { phrase: 'faces', blur: 12 },
          media: astronaut,
          floorLabel: 'BlazeFace execute 256²',
          floor: () => graphFloor(models, 'blazeface', [1, 256, 256, 3]),
        },
        {
          title: 'remove a box (astronaut 512², 80² hole)',
          task: 'remove',
          args: {},
          region: { box: removeBox },
          media: astronaut,
          floorLabel: 'cv.inpaint Telea on the whole image',
          floor: () => inpaintFloor(astronaut, removeBox, context),
        },
        {
          title: 'upscale ×2 (astronaut 256² → 512²)',
          task: 'upscale',
          args: { factor: 2 },
          media: small,
          floorLabel: 'ESRGAN-slim ×2 predict 256² in one piece',
          floor: () => upscaleFloor(models, 256),
        },
      ];
      lines.push(
        `  ${settings.inferenceThreads} onnxruntime threads; tfjs WASM single-threaded; median of ${options.runs ?? 5} (after ${options.warmup ?? 1} warm-up), runs interleaved`,
      );
      for (const c of cases) {
        const specialist = specialistFor(c.task)!;
        const pipeline = () => specialist.run({ task: c.task, media: [c.media], args: c.args, ...(c.region ? { region: c.region } : {}) }, context);
        const floor = await c.floor();
        const [f, p] = await measureInterleaved(
          [
            { label: `floor: ${c.floorLabel}`, fn: floor },
            { label: `${c.task}: ${c.title}`, fn: pipeline },
          ],
          options,
        );
        lines.push(row(f!.label, f!, '1.00× floor'));
        lines.push(row(p!.label, p!, versus(p!, f!)));
      }

      const clip = await faceClip(context);
      const frames = clip.info.frameCount ?? Math.round((clip.info.durationSec ?? 4) * 25);
      const out = path.join(context.tmpDir, 'transcoded.mp4');
      const adjust = specialistFor('adjust')!;
      const videoRuns = { runs: Math.max(1, Math.min(3, options.runs ?? 3)), warmup: 0 };
      const [ff, blur] = await measureInterleaved(
        [
          {
            label: 'floor: ffmpeg decode + encode (same codec settings)',
            fn: () => runFfmpeg(context.ffmpeg, [...inputArgs(clip.path), ...h264Args(), ...AAC_ARGS, out]),
          },
          {
            label: 'adjust: blur the faces, per frame with tracking',
            fn: () => adjust.run({ task: 'adjust', media: [clip], args: { phrase: 'faces', blur: 12 } }, context),
          },
        ],
        videoRuns,
      );
      const fps = (m: { medianMs: number }) => `${(frames / (m.medianMs / 1000)).toFixed(1)} frames/s`;
      lines.push(`  video: ${clip.info.width}×${clip.info.height}, ${frames} frames, with audio`);
      lines.push(row(ff!.label, ff!, fps(ff!)));
      lines.push(row(blur!.label, blur!, `${fps(blur!)}, ${versus(blur!, ff!)}`));
      return { title: 'vision: CPU specialists with npm weights, against their raw model call', lines, goals: [] };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
