import * as ort from 'onnxruntime-node';
import { InternalError } from '../../errors.ts';

/**
 * Tensors in whatever type a graph declares, so that one pipeline runs the fp32 CPU export, an int8 one
 * (fp32 at its inputs) and the fp16 CUDA export alike. Node 20 has no Float16Array: onnxruntime-node takes
 * and returns fp16 as the raw bits in a Uint16Array, converted here. Node 24 has one, and onnxruntime-common
 * then wraps those bits in a Float16Array, which onnxruntime-node 1.30's binding reads as 0 bytes
 * (microsoft/onnxruntime#32323), so halfTensor hands the binding the Uint16Array itself.
 */

export type FloatType = 'float32' | 'float16';

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** IEEE half bits of a float, rounded to nearest even; overflow → ±Inf. */
export function toHalf(value: number): number {
  F32[0] = value;
  const x = U32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
  return sign | half;
}

export function fromHalf(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A float16 tensor of raw half bits that onnxruntime-node accepts on every Node version (see above). */
function halfTensor(bits: Uint16Array, dims: readonly number[]): ort.Tensor {
  const tensor = new ort.Tensor('float16', bits, dims);
  if (!(tensor.data instanceof Uint16Array)) (tensor as unknown as { cpuData: Uint16Array }).cpuData = bits;
  return tensor;
}

function tensorMeta(session: ort.InferenceSession, name: string, graph: string): ort.InferenceSession.TensorValueMetadata {
  const meta = session.inputMetadata.find((m) => m.name === name);
  if (meta === undefined || !meta.isTensor) throw new InternalError(`The ${graph} graph has no tensor input "${name}".`);
  return meta;
}

/** A float input in the graph's declared type (float32 or float16). */
export function floatInput(session: ort.InferenceSession, name: string, graph: string, data: Float32Array, dims: readonly number[]): ort.Tensor {
  const meta = tensorMeta(session, name, graph);
  if (meta.type === 'float32') return new ort.Tensor('float32', data, dims);
  if (meta.type === 'float16') {
    const bits = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) bits[i] = toHalf(data[i]!);
    return halfTensor(bits, dims);
  }
  throw new InternalError(`The ${graph} graph's input "${name}" is ${meta.type}; this pipeline feeds float32 or float16.`);
}

/** An integer-or-float input holding one number per element (token ids, the timestep), in the declared type. */
export function numberInput(session: ort.InferenceSession, name: string, graph: string, values: readonly number[], dims: readonly number[]): ort.Tensor {
  const meta = tensorMeta(session, name, graph);
  switch (meta.type) {
    case 'int64':
      return new ort.Tensor('int64', BigInt64Array.from(values.map((v) => BigInt(Math.round(v)))), dims);
    case 'int32':
      return new ort.Tensor('int32', Int32Array.from(values), dims);
    case 'float32':
      return new ort.Tensor('float32', Float32Array.from(values), dims);
    case 'float16':
      return halfTensor(Uint16Array.from(values.map(toHalf)), dims);
    default:
      throw new InternalError(`The ${graph} graph's input "${name}" is ${meta.type}; this pipeline feeds int64, int32, float32 or float16.`);
  }
}

/** The dims to feed a one-value input: a scalar when the graph declares rank 0, else [1] (or [1,…,1]). */
export function oneValueDims(session: ort.InferenceSession, name: string, graph: string): number[] {
  const meta = tensorMeta(session, name, graph);
  return meta.shape.map(() => 1);
}

/** A float output as float32 values (fp16 outputs converted). */
export function floatOutput(tensor: ort.Tensor, what: string): Float32Array {
  if (tensor.type === 'float32') return tensor.data as Float32Array;
  if (tensor.type === 'float16') {
    // A Float16Array on Node 24 (its values are numbers already), the raw half bits on Node 20.
    if (!(tensor.data instanceof Uint16Array)) return Float32Array.from(tensor.data as ArrayLike<number>);
    const bits = tensor.data;
    const out = new Float32Array(bits.length);
    for (let i = 0; i < bits.length; i++) out[i] = fromHalf(bits[i]!);
    return out;
  }
  throw new InternalError(`${what} came back as ${tensor.type}, not a float tensor.`);
}

/**
 * The input of `session` whose name matches `pattern`, or the only input left once the others are named:
 * exports differ in names (`sample`, `latent_sample`, `input_ids`…), so names are read, not assumed.
 */
export function inputNamed(session: ort.InferenceSession, graph: string, pattern: RegExp, others: readonly RegExp[] = []): string {
  const names = session.inputNames;
  const match = names.find((n) => pattern.test(n));
  if (match !== undefined) return match;
  const rest = names.filter((n) => !others.some((o) => o.test(n)));
  if (rest.length === 1) return rest[0]!;
  throw new InternalError(`The ${graph} graph has no input like ${pattern} (its inputs: ${names.join(', ')}).`);
}

/** The preferred output if the graph has it (a text encoder also returns `pooler_output`), else its first. */
export function outputNamed(session: ort.InferenceSession, preferred: readonly string[]): string {
  return preferred.find((p) => session.outputNames.includes(p)) ?? session.outputNames[0]!;
}
