import * as ort from 'onnxruntime-node';

/**
 * Reusable Float32Array buffers for model inputs. A fresh 12 MB array (ISNet's 1024² input) cost ~55 ms
 * median here, against ~3 ms to refill one already held: V8 zero-fills it and runs a full GC as external
 * memory grows. Sessions run one call at a time, so one spare per size covers a steady stream of jobs.
 *
 * A borrowed array holds whatever its last user wrote: overwrite every element, or fill it first.
 */

/** Spares above this many bytes in total are let go (oldest size first), so odd sizes cannot pile up. */
const MAX_SPARE_BYTES = 64 * 1024 * 1024;

const spares = new Map<number, Float32Array>();
let spareBytes = 0;

export function borrowFloats(length: number): Float32Array {
  const spare = spares.get(length);
  if (spare === undefined) return new Float32Array(length);
  spares.delete(length);
  spareBytes -= spare.byteLength;
  return spare;
}

/** Gives an array back once nothing reads it any more (after session.run has resolved). */
export function returnFloats(array: Float32Array): void {
  if (array.byteLength > MAX_SPARE_BYTES || spares.has(array.length)) return;
  for (const [length, old] of spares) {
    if (spareBytes + array.byteLength <= MAX_SPARE_BYTES) break;
    spares.delete(length);
    spareBytes -= old.byteLength;
  }
  spares.set(array.length, array);
  spareBytes += array.byteLength;
}

/**
 * session.run on one float32 input over a borrowed array, which goes back to the pool however the run
 * ends. `fetches` is passed only when given, so the session sees the same call as without the pool.
 */
export async function runPooled(
  session: ort.InferenceSession,
  name: string,
  data: Float32Array,
  dims: readonly number[],
  fetches?: string[],
): Promise<ort.InferenceSession.ReturnType> {
  const input = new ort.Tensor('float32', data, dims);
  try {
    return await (fetches ? session.run({ [name]: input }, fetches) : session.run({ [name]: input }));
  } finally {
    returnFloats(data);
    input.dispose();
  }
}
