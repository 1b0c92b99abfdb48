/**
 * A SpecialistContext for tests: real settings (MODELS_DIR in a temp folder unless given), a real model
 * registry, the system ffmpeg, a private scratch directory, and progress/cancellation the test can see.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../src/config/settings.ts';
import type { Settings } from '../../src/config/settings.ts';
import type { MediaInfo, MediaKind } from '../../src/core/types.ts';
import type { Task } from '../../src/core/tasks.ts';
import { locateFfmpeg } from '../../src/media/ffmpeg.ts';
import { limitsFromSettings } from '../../src/media/limits.ts';
import { probe } from '../../src/media/ffmpeg.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import type { LoadedMedia, SpecialistContext, SpecialistInput } from '../../src/vision/specialist.ts';
import sharp from 'sharp';

export interface TestContext extends SpecialistContext {
  /** Every progress report, in order. */
  reports: { fraction: number; note: string }[];
  abort(): void;
  /** Removes the scratch directory (the registry is the caller's to dispose). */
  cleanup(): Promise<void>;
}

export interface TestContextOptions {
  env?: NodeJS.ProcessEnv;
  /** Share one registry across a file (load sessions once in beforeAll). */
  models?: ModelRegistry;
}

export function testSettings(env: NodeJS.ProcessEnv = {}): Settings {
  // DATA_DIR away from ./data: model choice reads `npm run eval`'s stored numbers there, and a developer's own
  // eval run must not change which model a test gets.
  const dataDir = path.join(os.tmpdir(), 'vitron-test-data');
  return loadSettings({ MODELS_DIR: path.join(os.tmpdir(), 'vitron-test-no-models'), DATA_DIR: dataDir, INFERENCE_THREADS: '2', ...env });
}

/** A registry that logs into an array instead of the console. */
export function testRegistry(env: NodeJS.ProcessEnv = {}): { models: ModelRegistry; logs: string[] } {
  const logs: string[] = [];
  const models = new ModelRegistry({ settings: testSettings(env), log: { warn: (m) => logs.push(m) } });
  return { models, logs };
}

export async function makeSpecialistContext(options: TestContextOptions = {}): Promise<TestContext> {
  const settings = testSettings(options.env);
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-specialist-'));
  const controller = new AbortController();
  const reports: { fraction: number; note: string }[] = [];
  return {
    settings,
    models: options.models ?? new ModelRegistry({ settings }),
    ffmpeg: await locateFfmpeg(settings),
    limits: limitsFromSettings(settings),
    progress: (fraction, note) => reports.push({ fraction, note }),
    signal: controller.signal,
    tmpDir,
    reports,
    abort: () => controller.abort(),
    cleanup: () => fs.rm(tmpDir, { recursive: true, force: true }),
  };
}

/** LoadedMedia for image bytes (its file is written into the context's scratch directory). */
export async function imageMedia(context: SpecialistContext, bytes: Buffer, name = 'input.png'): Promise<LoadedMedia> {
  const meta = await sharp(bytes).metadata();
  const file = path.join(context.tmpDir, name);
  await fs.writeFile(file, bytes);
  const info: MediaInfo = {
    id: name,
    sha256: '',
    kind: 'image',
    mime: `image/${meta.format ?? 'png'}`,
    bytes: bytes.length,
    width: meta.width ?? 0,
    height: meta.height ?? 0,
  };
  return { info, bytes, path: file };
}

/** LoadedMedia for a video file, with the facts ffprobe reads. */
export async function videoMedia(context: Pick<SpecialistContext, 'ffmpeg'>, file: string): Promise<LoadedMedia> {
  const bytes = await fs.readFile(file);
  const facts = await probe(context.ffmpeg, file);
  const info: MediaInfo = {
    id: path.basename(file),
    sha256: '',
    kind: 'video' satisfies MediaKind,
    mime: 'video/mp4',
    bytes: bytes.length,
    width: facts.width,
    height: facts.height,
    durationSec: facts.durationSec,
    fps: facts.fps,
    frameCount: facts.frameCount,
    hasAudio: facts.hasAudio,
  };
  return { info, bytes, path: file };
}

export function invocation(task: Task, media: LoadedMedia, args: Record<string, unknown> = {}): SpecialistInput {
  return { task, media: [media], args };
}
