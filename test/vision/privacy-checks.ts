/**
 * Shared by the privacy-*.test.ts files that run the real face and person models: whether a face is still
 * found where one was, the edit's result picture, the decode limit they use, and ffmpeg to make clips.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import type { SpecialistResult } from '../../src/vision/specialist.ts';

export const exec = promisify(execFile);
export const LIMITS = { maxImagePixels: 50_000_000 };

/** A face still found where a face was: the edit did not hide it. */
export function facesOver(found: readonly Detection[], where: readonly Detection[]): Detection[] {
  return found.filter((f) => where.some((w) => intersectionOverUnion(f, w) > 0.2));
}

export function resultOf(result: SpecialistResult) {
  return result.media.find((m) => m.role === 'result');
}
