import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { widenFloat16 } from '../../src/vision/models/widen-float16.ts';
import { seededWeights } from '../fixtures/onnx-models.ts';

const { onnx } = onnxProto;
const FLOAT = 1;
const FLOAT16 = 10;

/** The float16 bits of a value that float16 holds exactly (every value here is a multiple of 1/64 below 32). */
function halfBits(value: number): number {
  if (value === 0) return 0;
  const sign = value < 0 ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  const exponent = Math.floor(Math.log2(magnitude));
  if (exponent < -14) throw new Error(`${value} is subnormal in float16`);
  const fraction = Math.round((magnitude / 2 ** exponent - 1) * 1024);
  return sign | ((exponent + 15) << 10) | fraction;
}

/** Multiples of 1/8 in [-1, 1]: products and short sums of them stay exact in float16 and float32 alike. */
const eighths = (count: number, seed: number) => seededWeights(count, seed, 1).map((v) => Math.round(v * 8) / 8);

function halfTensor(name: string, dims: number[], values: number[]): OnnxTypes.ITensorProto {
  const raw = new Uint8Array(values.length * 2);
  values.forEach((v, i) => {
    const bits = halfBits(v);
    raw[2 * i] = bits & 0xff;
    raw[2 * i + 1] = bits >> 8;
  });
  return { name, dims, dataType: FLOAT16, rawData: raw };
}

const typed = (name: string, elemType: number, dims: number[]): OnnxTypes.IValueInfoProto => ({
  name,
  type: { tensorType: { elemType, shape: { dim: dims.map((d) => ({ dimValue: d })) } } },
});

const INT = onnx.AttributeProto.AttributeType.INT;
const cast = (input: string, output: string, to: number): OnnxTypes.INodeProto => ({
  opType: 'Cast',
  name: `cast_${output}`,
  input: [input],
  output: [output],
  attribute: [{ name: 'to', type: INT, i: to }],
});

/**
 * What a float16 export looks like (ISNet's "medium" file is one): float32 in, a Cast to float16, float16
 * weights, a float16 constant, float16 activations, Casts back to float32 at the outputs; and a second output
 * (a side branch) that a caller may not want.
 */
function halfModel(): Uint8Array {
  const half = 0.5;
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'half',
      input: [typed('input', FLOAT, [1, 2, 4, 4])],
      output: [typed('output', FLOAT, [1, 3, 4, 4]), typed('side', FLOAT, [1, 1, 4, 4])],
      valueInfo: [typed('x16', FLOAT16, [1, 2, 4, 4]), typed('conv16', FLOAT16, [1, 3, 4, 4])],
      initializer: [halfTensor('w', [3, 2, 3, 3], eighths(54, 1)), halfTensor('b', [3], eighths(3, 2)), halfTensor('side_w', [1, 2, 1, 1], eighths(2, 3))],
      node: [
        cast('input', 'x16', FLOAT16),
        {
          opType: 'Conv',
          name: 'conv',
          input: ['x16', 'w', 'b'],
          output: ['conv16'],
          attribute: [{ name: 'pads', type: onnx.AttributeProto.AttributeType.INTS, ints: [1, 1, 1, 1] }],
        },
        { opType: 'Relu', name: 'relu', input: ['conv16'], output: ['relu16'] },
        {
          opType: 'Constant',
          name: 'half',
          input: [],
          output: ['half16'],
          attribute: [{ name: 'value', type: onnx.AttributeProto.AttributeType.TENSOR, t: halfTensor('', [], [half]) }],
        },
        { opType: 'Add', name: 'add', input: ['relu16', 'half16'], output: ['sum16'] },
        cast('sum16', 'output', FLOAT),
        { opType: 'Conv', name: 'side_conv', input: ['x16', 'side_w'], output: ['side16'] },
        cast('side16', 'side', FLOAT),
      ],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

const INPUT = new ort.Tensor('float32', Float32Array.from(eighths(32, 4)), [1, 2, 4, 4]);

async function outputs(model: Uint8Array, fetches?: string[]): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(model, { executionProviders: ['cpu'], graphOptimizationLevel: 'extended' });
  try {
    const result = await (fetches ? session.run({ input: INPUT }, fetches) : session.run({ input: INPUT }));
    return Object.fromEntries(Object.entries(result).map(([name, t]) => [name, Array.from(t.data as Float32Array)]));
  } finally {
    await session.release();
  }
}

const decode = (model: Uint8Array) => onnx.ModelProto.decode(model);
const elemTypes = (graph: OnnxTypes.IGraphProto) =>
  [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])].map((v) => v.type?.tensorType?.elemType);

describe('widenFloat16', () => {
  it('runs a float16 graph in float32 with its weights kept float16: the same output, each weight cast once before its first use', async () => {
    const original = halfModel();
    const widened = widenFloat16(original, { weights: 'float16' });
    const graph = decode(widened).graph!;
    expect(graph.initializer!.map((t) => [t.name, t.dataType])).toEqual([
      ['w', FLOAT16],
      ['b', FLOAT16],
      ['side_w', FLOAT16],
    ]);
    const casts = graph.node!.filter((n) => n.opType === 'Cast');
    expect(casts.map((n) => [n.input![0], Number(n.attribute![0]!.i)])).toEqual([
      ['input', FLOAT],
      ['w', FLOAT],
      ['b', FLOAT],
      ['sum16', FLOAT],
      ['side_w', FLOAT],
      ['side16', FLOAT],
    ]);
    // Each weight's cast comes right before the first node that reads it.
    const order = graph.node!.map((n) => n.name);
    expect(order.indexOf('w::cast')).toBe(order.indexOf('conv') - 2);
    expect(order.indexOf('side_w::cast')).toBe(order.indexOf('side_conv') - 1);
    expect(elemTypes(graph).every((t) => t === FLOAT)).toBe(true);
    const constant = graph.node!.find((n) => n.opType === 'Constant')!.attribute![0]!.t!;
    expect(constant.dataType).toBe(FLOAT);
    expect(Array.from(new Float32Array(new Uint8Array(constant.rawData!).buffer))).toEqual([0.5]);
    // Every value here is exact in float16, so the two graphs must agree to the bit.
    const before = await outputs(original);
    const after = await outputs(widened);
    expect(after).toEqual(before);
    expect(before['output']!.some((v) => v > 0.5)).toBe(true);
  });

  it('widens the weights themselves when asked, with the same output and no casts left but the float32 ones', async () => {
    const original = halfModel();
    const widened = widenFloat16(original, { weights: 'float32' });
    const graph = decode(widened).graph!;
    expect(graph.initializer!.map((t) => t.dataType)).toEqual([FLOAT, FLOAT, FLOAT]);
    expect(graph.node!.filter((n) => n.opType === 'Cast').every((n) => Number(n.attribute![0]!.i) === FLOAT)).toBe(true);
    expect(await outputs(widened)).toEqual(await outputs(original));
  });

  it('keeps only the outputs asked for, with the nodes and weights they need and nothing else', async () => {
    const widened = widenFloat16(halfModel(), { weights: 'float16', outputs: ['output'] });
    const graph = decode(widened).graph!;
    expect(graph.output!.map((o) => o.name)).toEqual(['output']);
    expect(graph.node!.map((n) => n.name)).not.toContain('side_conv');
    expect(graph.initializer!.map((t) => t.name)).toEqual(['w', 'b']);
    expect(await outputs(widened)).toEqual(await outputs(halfModel(), ['output']));
  });

  it('refuses to keep an output the graph does not have, naming it', () => {
    expect(() => widenFloat16(halfModel(), { weights: 'float16', outputs: ['mask'] })).toThrow(/no output named mask/);
  });
});
