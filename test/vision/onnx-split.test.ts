import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { splitTextGraph, type SplitResult } from '../../src/vision/models/onnx-split.ts';
import { clipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { buildOnnxModel, floats, int64s, node, scalar } from '../fixtures/onnx-models.ts';
import { owlvitFixture } from '../fixtures/owlvit-fixture.ts';

const { onnx } = onnxProto;
const TEXT = ['input_ids', 'attention_mask'];

function halves(result: SplitResult) {
  if ('refused' in result) throw new Error(`refused: ${result.refused}`);
  return result as Required<Exclude<SplitResult, { refused: string }>>;
}

/** Runs the fused graph and the two halves on the same feeds; the outputs the rest makes must be identical. */
async function expectSameAsFused(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const split = halves(splitTextGraph(bytes, TEXT, { text: true, rest: true }));
  const [fused, text, rest] = await Promise.all([bytes, split.text, split.rest].map((b) => ort.InferenceSession.create(b)));
  const whole = await fused!.run(feeds);
  const pick = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, feeds[n]!]));
  const encoded = await text!.run(pick(text!.inputNames));
  const others = rest!.inputNames.filter((n) => !(n in encoded));
  const out = await rest!.run({ ...pick(others), ...encoded });
  for (const name of split.plan.restOutputs) expect(Array.from(out[name]!.data as Float32Array)).toEqual(Array.from(whole[name]!.data as Float32Array));
  return encoded;
}

const ids = (values: number[], dims = [1, values.length]) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), dims);
const pixels = (size: number) =>
  new ort.Tensor(
    'float32',
    Float32Array.from({ length: 3 * size * size }, (_, i) => Math.sin(i / 7)),
    [1, 3, size, size],
  );

/**
 * Words and picture crossing in every way the cut must handle: a float frontier, an int64 one (a shape), a text
 * input the picture side reads itself, a constant both sides read, and an output made from the words alone.
 */
function crossingGraph(): Uint8Array {
  return buildOnnxModel({
    name: 'crossing',
    inputs: [
      { name: 'input_ids', type: 'int64', dims: ['b', 't'] },
      { name: 'pixel_values', type: 'float32', dims: ['b', 4] },
    ],
    outputs: [
      { name: 'out', type: 'float32', dims: ['b', 4] },
      { name: 'text_vec', type: 'float32', dims: ['b', 4] },
    ],
    initializers: [
      floats(
        'emb',
        [10, 4],
        Array.from({ length: 40 }, (_, i) => (i % 7) - 3),
      ),
      scalar('two_init', 2),
    ],
    nodes: [
      node('Gather', ['emb', 'input_ids'], ['tok']),
      node('ReduceMean', ['tok'], ['text_vec'], { axes: [1], keepdims: 0 }),
      node('Identity', ['two_init'], ['two']),
      node('Mul', ['text_vec', 'two'], ['text_scaled']),
      node('Mul', ['pixel_values', 'two'], ['px2']),
      node('Add', ['px2', 'text_scaled'], ['mixed']),
      node('Gather', ['pixel_values', 'input_ids'], ['picked'], { axis: 1 }),
      node('ReduceSum', ['picked'], ['psum'], { keepdims: 0 }),
      node('Mul', ['mixed', 'psum'], ['mixed2']),
      node('Shape', ['text_vec'], ['tv_shape']),
      node('Reshape', ['mixed2', 'tv_shape'], ['out']),
    ],
  });
}

describe('splitting a fused text+image graph at what the words alone decide', () => {
  it('cuts the CLIPSeg fixture after its text vector: the halves compute what the fused graph does', async () => {
    const bytes = clipsegFixture();
    const split = halves(splitTextGraph(bytes, TEXT, { text: true, rest: true }));
    expect(split.plan).toEqual({ frontier: [{ name: 'text_bc11', type: 'float32' }], textInputs: TEXT, restTextInputs: [], restOutputs: ['logits'] });
    const encoded = await expectSameAsFused(bytes, { input_ids: ids([5, 6, 7]), attention_mask: ids([1, 1, 1]), pixel_values: pixels(352) });
    expect(encoded['text_bc11']!.dims).toEqual([1, 3, 1, 1]);
  });

  it('cuts the OWL-ViT fixture before the patches meet the queries, and leaves the text-only output (text_embeds) to the text side', async () => {
    const bytes = owlvitFixture();
    const split = halves(splitTextGraph(bytes, TEXT, { text: true, rest: true }));
    expect(split.plan.frontier).toEqual([{ name: 'text_t', type: 'float32' }]);
    expect(split.plan.restOutputs).toEqual(['logits', 'pred_boxes', 'image_embeds']);
    await expectSameAsFused(bytes, { input_ids: ids([5, 6, 7, 0], [1, 4]), attention_mask: ids([1, 1, 1, 0], [1, 4]), pixel_values: pixels(768) });
  });

  it('carries int64 frontier tensors, keeps a text input the picture side reads itself, and gives constants to both halves', async () => {
    const bytes = crossingGraph();
    const split = halves(splitTextGraph(bytes, TEXT, { text: true, rest: true }));
    expect(split.plan).toEqual({
      frontier: [
        { name: 'text_scaled', type: 'float32' },
        { name: 'tv_shape', type: 'int64' },
      ],
      textInputs: ['input_ids'],
      restTextInputs: ['input_ids'],
      restOutputs: ['out'],
    });
    await expectSameAsFused(bytes, {
      input_ids: ids([1, 2, 3, 0, 3, 2], [2, 3]),
      pixel_values: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [2, 4]),
    });
    // The word embedding table stays with the text half: the picture side does not carry the text encoder's weights.
    const rest = onnx.ModelProto.decode(split.rest);
    expect((rest.graph?.initializer ?? []).map((t) => t.name)).toEqual(['two_init']);
    expect((rest.graph?.node ?? []).map((n) => n.opType)).not.toContain('ReduceMean');
  });

  it('builds only the half it is asked for', () => {
    const only = splitTextGraph(crossingGraph(), TEXT, { rest: true });
    expect('refused' in only ? undefined : [only.text, only.rest !== undefined]).toEqual([undefined, true]);
  });

  it('refuses what it cannot cut safely, saying why: subgraphs, external weights, no computed text, no text inputs, not ONNX', () => {
    const withNode = (edit: (model: ReturnType<typeof onnx.ModelProto.decode>) => void): Uint8Array => {
      const model = onnx.ModelProto.decode(crossingGraph());
      edit(model);
      return onnx.ModelProto.encode(model).finish();
    };
    const ifNode = withNode((m) => {
      m.graph?.node?.push(
        onnx.NodeProto.create({ opType: 'If', input: ['psum'], output: ['branch'], attribute: [{ name: 'then_branch', type: 5, g: { name: 'then' } }] }),
      );
    });
    expect(splitTextGraph(ifNode, TEXT)).toEqual({ refused: 'it has control-flow nodes with subgraphs' });
    const external = withNode((m) => {
      const first = m.graph?.initializer?.[0];
      if (first) first.externalData = [{ key: 'location', value: 'weights.bin' }];
    });
    expect(splitTextGraph(external, TEXT)).toEqual({ refused: 'its weights are in external files' });
    const rawIdsOnly = buildOnnxModel({
      name: 'raw',
      inputs: [
        { name: 'input_ids', type: 'int64', dims: [1, 'n'] },
        { name: 'pixel_values', type: 'float32', dims: [1, 4] },
      ],
      outputs: [{ name: 'picked', type: 'float32', dims: [1, 'n'] }],
      nodes: [node('Gather', ['pixel_values', 'input_ids'], ['picked'], { axis: 1 })],
    });
    expect(splitTextGraph(rawIdsOnly, TEXT)).toEqual({ refused: 'no tensor computed from the text reaches the image side' });
    const noText = buildOnnxModel({
      name: 'picture-only',
      inputs: [{ name: 'pixel_values', type: 'float32', dims: [1, 4] }],
      outputs: [{ name: 'y', type: 'float32', dims: [1, 4] }],
      initializers: [int64s('unused', [1])],
      nodes: [node('Relu', ['pixel_values'], ['y'])],
    });
    expect(splitTextGraph(noText, TEXT)).toEqual({ refused: 'it has none of the text inputs input_ids, attention_mask' });
    expect('refused' in splitTextGraph(new Uint8Array([1, 2, 3, 255]), TEXT)).toBe(true);
  });
});
