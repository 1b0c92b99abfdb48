import { createHash } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import type { LocatedFile } from './model-files.ts';

/**
 * A short fingerprint of a graph file, for encoder ids (src/core/embeddings.ts): the bot and a worker on
 * another machine must agree that "clipseg-rd64's text encoder" is the same graph before one uses the other's
 * numbers. A full sha256 of a 600 MB graph costs a second or more on every process start; the fingerprint
 * hashes the size and 16 windows of 64 KiB spread over the file instead (1 MiB read). Another export, another
 * precision or a retrained revision changes the size or the bytes in the windows (weights differ everywhere);
 * two files equal in size and in every window but different elsewhere would pass as one, which no real pair
 * of exports is.
 */

const WINDOWS = 16;
const WINDOW = 64 * 1024;
/** Hex digits kept: 32 bits tell the exports of one model apart. */
const HEX = 8;

function offsets(size: number): number[] {
  if (size <= WINDOWS * WINDOW) return [0];
  const step = (size - WINDOW) / (WINDOWS - 1);
  return Array.from({ length: WINDOWS }, (_, i) => Math.floor(i * step));
}

/** The fingerprint of bytes in memory (models read from npm packages have no path). */
export function bytesFingerprint(bytes: Uint8Array): string {
  const hash = createHash('sha256').update(String(bytes.length));
  if (bytes.length <= WINDOWS * WINDOW) hash.update(bytes);
  else for (const at of offsets(bytes.length)) hash.update(bytes.subarray(at, at + WINDOW));
  return hash.digest('hex').slice(0, HEX);
}

async function pathFingerprint(file: string): Promise<string> {
  const { size } = await stat(file);
  const hash = createHash('sha256').update(String(size));
  const handle = await open(file, 'r');
  try {
    const length = size <= WINDOWS * WINDOW ? size : WINDOW;
    const buffer = Buffer.alloc(length);
    for (const at of offsets(size)) {
      const { bytesRead } = await handle.read(buffer, 0, length, at);
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex').slice(0, HEX);
}

/** The fingerprint of a located model file, read from disk without loading the whole file. */
export function fileFingerprint(file: LocatedFile): Promise<string> {
  return file.path !== undefined ? pathFingerprint(file.path) : file.read().then(bytesFingerprint);
}
