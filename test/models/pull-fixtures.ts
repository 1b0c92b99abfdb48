/**
 * Shared by the model-pull tests: a tiny catalog entry whose files the fake hub serves, deterministic
 * bytes for them, pull options that record progress, and temporary MODELS_DIRs removed after each test.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ModelEntry } from '../../models/catalog.ts';
import type { PullEvent, PullOptions } from '../../models/pull.ts';
import type { FakeHub } from './fake-hub.ts';

export const REPO = 'test-org/tiny-model';
export const REV = 'abc123';

/** Deterministic, non-repeating-looking bytes so that an offset error cannot go unnoticed. */
export function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export const ONNX = bytes(12 * 1024, 1);
export const CONFIG = bytes(3 * 1024, 2);

export function entry(overrides: Partial<ModelEntry> = {}, pinned = true): ModelEntry {
  return {
    name: 'tiny-model',
    title: 'A test model',
    tasks: ['upscale'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: REPO, revision: REV },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json', ...(pinned ? { bytes: CONFIG.length, sha256: sha256(CONFIG) } : {}) },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx', ...(pinned ? { bytes: ONNX.length, sha256: sha256(ONNX) } : {}) },
    ],
    licence: 'MIT',
    approxBytes: ONNX.length + CONFIG.length,
    gpu: false,
    notes: '',
    ...overrides,
  };
}

const tmpDirs: string[] = [];

/** Removes every directory tmpDir made; each test file calls this after each test. */
export async function removeTmpDirs(): Promise<void> {
  await Promise.all(tmpDirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
}

export function serve(hub: FakeHub, files: Record<string, Buffer> = { 'config.json': CONFIG, 'onnx/model.onnx': ONNX }): void {
  for (const [p, b] of Object.entries(files)) hub.files.set(`/${REPO}/resolve/${REV}/${p}`, b);
}

export async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pull-'));
  tmpDirs.push(dir);
  return dir;
}

export async function options(hub: FakeHub, extra: Partial<PullOptions> = {}): Promise<PullOptions & { events: PullEvent[] }> {
  const events: PullEvent[] = [];
  return { modelsDir: await tmpDir(), hubUrl: hub.url, allowDownload: true, onProgress: (e) => events.push(e), events, ...extra };
}

export const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );
