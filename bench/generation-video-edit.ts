/**
 * Rows of `npm run bench -- generation`: editing a video by words frame by frame with the in-process SD-Turbo
 * engine (edit-video.ts: every frame through image-to-image, one seed), as frames per second — on the fixture
 * graphs (the pipeline's own work per frame: decode, resize, PNG, engine, back, encode) and on real weights
 * when an SD-Turbo export is installed in MODELS_DIR. No goal: the issue asks for the figure.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Settings } from '../src/config/settings.ts';
import { locateFfmpeg, runFfmpeg } from '../src/media/ffmpeg.ts';
import { DEFAULT_ENGINE_FACTORIES } from '../src/vision/engines/engines.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import type { LoadedMedia } from '../src/vision/specialist.ts';
import { editFrameByFrame } from '../src/vision/tasks/video/edit-video.ts';
import { installSdTurboFixture } from '../test/fixtures/sd-turbo-fixture.ts';
import { benchContext, benchSettings } from './context.ts';
import { videoMedia } from '../test/helpers/specialist-context.ts';
import { measureInterleaved, row } from './measure.ts';
import type { MeasureOptions } from './measure.ts';

const SECONDS = 2;
const FPS = 12;

async function clip(settings: Settings, dir: string): Promise<LoadedMedia> {
  const file = path.join(dir, 'clip.mp4');
  const ffmpeg = await locateFfmpeg(settings);
  await runFfmpeg(ffmpeg, ['-f', 'lavfi', '-i', `testsrc2=size=320x180:rate=${FPS}:duration=${SECONDS}`, '-pix_fmt', 'yuv420p', `file:${file}`]);
  return videoMedia({ ffmpeg }, file);
}

async function framesPerSecond(label: string, settings: Settings, video: LoadedMedia, options: MeasureOptions): Promise<string> {
  const models = new ModelRegistry({ settings });
  const context = { ...(await benchContext(settings, models)), engines: DEFAULT_ENGINE_FACTORIES };
  try {
    const input = { task: 'edit' as const, media: [video], args: { prompt: "make it look like it's snowing", seed: 7 } };
    const [m] = await measureInterleaved([{ label, fn: () => editFrameByFrame('edit', input, context) }], options);
    const frames = video.info.frameCount ?? SECONDS * FPS;
    return row(m!.label, m, `${(frames / (m!.medianMs / 1000)).toFixed(1)} frames/s (${frames} frames, ${video.info.width}×${video.info.height})`);
  } finally {
    await context.cleanup();
    await models.dispose();
  }
}

export async function videoEditRows(options: MeasureOptions, realExport: string | undefined): Promise<{ lines: string[] }> {
  const settings: Settings = { ...benchSettings(), GENERATION_ENGINES: ['sd-turbo'] };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-video-edit-'));
  try {
    const video = await clip(settings, dir);
    const fixtureDir = path.join(dir, 'models');
    await installSdTurboFixture(fixtureDir);
    const lines = [await framesPerSecond('fixture graphs: frame-by-frame edit', { ...settings, MODELS_DIR: fixtureDir }, video, options)];
    lines.push(
      realExport === undefined
        ? `  real weights: no SD-Turbo export with real weights in ${settings.MODELS_DIR}: not measured`
        : await framesPerSecond(`real weights (${realExport}): frame-by-frame edit`, settings, video, { runs: 1, warmup: 0 }),
    );
    return { lines };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
