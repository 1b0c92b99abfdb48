import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../src/config/settings.ts';
import type { Settings } from '../src/config/settings.ts';
import type { MediaInfo } from '../src/core/types.ts';
import { locateFfmpeg } from '../src/media/ffmpeg.ts';
import { limitsFromSettings } from '../src/media/limits.ts';
import type { ModelRegistry } from '../src/vision/models/model-registry.ts';
import type { LoadedMedia, SpecialistContext } from '../src/vision/specialist.ts';
import { TESTDATA_DIR } from '../test/helpers/media-fixtures.ts';

export function benchSettings(): Settings {
  return loadSettings(process.env);
}

export async function benchContext(settings: Settings, models: ModelRegistry): Promise<SpecialistContext & { cleanup(): Promise<void> }> {
  const tmpDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-'));
  return {
    settings,
    models,
    ffmpeg: await locateFfmpeg(settings),
    limits: limitsFromSettings(settings),
    progress: () => {},
    signal: new AbortController().signal,
    tmpDir,
    cleanup: () => fs.rm(tmpDir, { recursive: true, force: true }),
  };
}

export function imageInput(bytes: Buffer, width: number, height: number, file: string): LoadedMedia {
  const info: MediaInfo = { id: 'bench', sha256: '', kind: 'image', mime: 'image/png', bytes: bytes.length, width, height };
  return { info, bytes, path: file };
}

/** The real photos, found by the tests' helper (relative to the repository root). */
export const TESTDATA = TESTDATA_DIR;

/** Why a comparison package could not run, in one line. */
export function reason(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}
