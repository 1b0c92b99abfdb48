import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

/**
 * Cuts a fused text+image ONNX graph (CLIPSeg's and OWL-ViT's Transformers.js exports are one `model.onnx`
 * each: token ids and pixels in, logits out) into its text half and the rest, by data dependence alone, so no
 * node or tensor name of the real export has to be known:
 *
 * - a node belongs to the **text half** when everything it reads comes from the text inputs (token ids,
 *   attention mask) or from constants: the whole CLIP text tower, its projection, and whatever else the model
 *   computes from the words alone (CLIPSeg's FiLM scale and shift, OWL-ViT's normalised query embeddings);
 * - every other node that reads an input other than the text belongs to the **rest** (the image tower, the
 *   decoder, the heads); constant-only nodes go to whichever half needs them (both, when both do);
 * - the **frontier** is every tensor the text half makes and the rest reads: the text half outputs it, the rest
 *   takes it as an input. Those tensors are what a text encoding *is* for this model, and what travels as the
 *   continuous half of the message. Text inputs that the rest also reads itself (token ids for a query mask)
 *   stay inputs of the rest: they are cheap to make again from the words.
 *
 * Both halves compute exactly what the fused graph computed (the same nodes, cut at tensors). What cannot be cut
 * safely is refused with the reason, and the caller runs the fused graph as before: control-flow nodes with
 * subgraphs (their outer-scope reads are hidden), weights in external files, a frontier of a type we do not
 * carry, or no frontier at all.
 */

const { onnx } = onnxProto;
type Model = OnnxTypes.ModelProto;
type Node = OnnxTypes.INodeProto;

const T = onnx.TensorProto.DataType;

/** Element types a frontier tensor may have: what an embedding can carry as plain numbers. */
export type FrontierType = 'float32' | 'int64' | 'int32' | 'bool';

const CARRIED: Partial<Record<number, FrontierType>> = { [T.FLOAT]: 'float32', [T.INT64]: 'int64', [T.INT32]: 'int32', [T.BOOL]: 'bool' };

export interface FrontierTensor {
  name: string;
  type: FrontierType;
}

export interface SplitPlan {
  /** What the text half outputs and the rest reads, in the fused graph's node order. */
  frontier: FrontierTensor[];
  /** Text inputs the text half reads (feed these to it). */
  textInputs: string[];
  /** Text inputs the rest still reads itself, besides the frontier. */
  restTextInputs: string[];
  /** Outputs of the fused graph that the rest makes (a text-only output, like OWL-ViT's text_embeds, is not among them). */
  restOutputs: string[];
}

export type SplitResult = { plan: SplitPlan; text?: Uint8Array; rest?: Uint8Array } | { refused: string };

const TEXT = 1;
const OTHER = 2;

/** The element type of each output of a node, from its inputs' types where the operator does not fix it. */
function outputTypes(node: Node, typeOf: (name: string) => number | undefined): (number | undefined)[] {
  const outputs = node.output ?? [];
  const attr = (name: string) => node.attribute?.find((a) => a.name === name);
  const firstKnown = (node.input ?? []).map((i) => (i === '' ? undefined : typeOf(i))).find((t) => t !== undefined);
  const all = (type: number | undefined) => outputs.map(() => type);
  switch (node.opType) {
    case 'Shape':
    case 'Size':
    case 'NonZero':
    case 'ArgMax':
    case 'ArgMin':
    case 'NonMaxSuppression':
      return all(T.INT64);
    case 'Cast':
      return all(Number(attr('to')?.i ?? 0) || undefined);
    case 'CastLike':
      return all(typeOf(node.input?.[1] ?? ''));
    case 'Equal':
    case 'Less':
    case 'LessOrEqual':
    case 'Greater':
    case 'GreaterOrEqual':
    case 'Not':
    case 'And':
    case 'Or':
    case 'Xor':
    case 'IsNaN':
    case 'IsInf':
      return all(T.BOOL);
    case 'Constant': {
      const value = attr('value')?.t;
      if (value) return all(value.dataType ?? undefined);
      if (attr('value_float') || attr('value_floats')) return all(T.FLOAT);
      if (attr('value_int') || attr('value_ints')) return all(T.INT64);
      return all(undefined);
    }
    case 'ConstantOfShape':
      return all(attr('value')?.t?.dataType ?? T.FLOAT);
    case 'Where':
      return all(typeOf(node.input?.[1] ?? ''));
    case 'TopK':
    case 'MaxPool':
      return outputs.map((_, i) => (i === 0 ? firstKnown : T.INT64));
    case 'Dropout':
      return outputs.map((_, i) => (i === 0 ? firstKnown : T.BOOL));
    case 'RandomNormal':
    case 'RandomUniform':
      return all(Number(attr('dtype')?.i ?? T.FLOAT));
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'EyeLike':
      return all(attr('dtype') ? Number(attr('dtype')!.i) : firstKnown);
    default:
      // Arithmetic, shape moves (Reshape, Transpose, Gather, Concat, Slice…), MatMul, normalisations: the data's type.
      return all(firstKnown);
  }
}

/** Names of every tensor a node reads (an empty name is an omitted optional input). */
const inputsOf = (node: Node): string[] => (node.input ?? []).filter((i) => i !== '');

/** The nodes among `candidates` that `wanted` tensors need, following producers back (kept in graph order). */
function closure(wanted: Iterable<string>, producer: ReadonlyMap<string, number>, nodes: readonly Node[], allowed: (index: number) => boolean): Set<number> {
  const keep = new Set<number>();
  const stack = [...wanted];
  while (stack.length > 0) {
    const name = stack.pop()!;
    const index = producer.get(name);
    if (index === undefined || keep.has(index) || !allowed(index)) continue;
    keep.add(index);
    stack.push(...inputsOf(nodes[index]!));
  }
  return keep;
}

function valueInfo(name: string, type: number): OnnxTypes.IValueInfoProto {
  // No shape: the dims depend on the words (tokens, queries) and ONNX Runtime takes any shape for an input without one.
  return { name, type: { tensorType: { elemType: type } } };
}

/** A new model around some of the fused graph's nodes, keeping its opsets, functions and metadata. */
function halfModel(
  model: Model,
  name: string,
  parts: { nodes: Node[]; inputs: OnnxTypes.IValueInfoProto[]; outputs: OnnxTypes.IValueInfoProto[] },
): Uint8Array {
  const graph = model.graph!;
  const read = new Set(parts.nodes.flatMap(inputsOf));
  const inputNames = new Set(parts.inputs.map((i) => i.name));
  const half = onnx.ModelProto.create({
    irVersion: model.irVersion,
    opsetImport: model.opsetImport,
    producerName: model.producerName,
    producerVersion: model.producerVersion,
    domain: model.domain,
    modelVersion: model.modelVersion,
    metadataProps: model.metadataProps,
    functions: model.functions,
    graph: {
      name: `${graph.name ?? 'graph'}:${name}`,
      node: parts.nodes,
      input: parts.inputs,
      output: parts.outputs,
      initializer: (graph.initializer ?? []).filter((t) => read.has(t.name ?? '') && !inputNames.has(t.name ?? '')),
      valueInfo: (graph.valueInfo ?? []).filter((v) => parts.nodes.some((n) => n.output?.includes(v.name ?? ''))),
    },
  });
  return onnx.ModelProto.encode(half).finish();
}

/**
 * Splits the fused graph in `bytes` at the frontier between what `textInputs` alone decide and the rest. `want`
 * says which halves to serialise (each is as large as its weights: build only what will be loaded).
 */
export function splitTextGraph(bytes: Uint8Array, textInputs: readonly string[], want: { text?: boolean; rest?: boolean } = {}): SplitResult {
  let model: Model;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (error) {
    return { refused: `the graph could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
  const graph = model.graph;
  if (!graph) return { refused: 'the model has no graph' };
  const nodes = graph.node ?? [];
  if (nodes.some((n) => n.attribute?.some((a) => (a.g ?? null) !== null || (a.graphs?.length ?? 0) > 0)))
    return { refused: 'it has control-flow nodes with subgraphs' };
  if ((graph.initializer ?? []).some((t) => (t.externalData?.length ?? 0) > 0)) return { refused: 'its weights are in external files' };
  if ((graph.sparseInitializer?.length ?? 0) > 0) return { refused: 'it has sparse initializers' };

  const initializers = new Set((graph.initializer ?? []).map((t) => t.name ?? ''));
  const graphInputs = (graph.input ?? []).filter((i) => !initializers.has(i.name ?? ''));
  const presentText = graphInputs.map((i) => i.name ?? '').filter((n) => textInputs.includes(n));
  if (presentText.length === 0) return { refused: `it has none of the text inputs ${textInputs.join(', ')}` };

  const source = new Map<string, number>();
  const types = new Map<string, number>();
  for (const t of graph.initializer ?? []) {
    source.set(t.name ?? '', 0);
    types.set(t.name ?? '', t.dataType ?? 0);
  }
  for (const i of graphInputs) {
    source.set(i.name ?? '', presentText.includes(i.name ?? '') ? TEXT : OTHER);
    const type = i.type?.tensorType?.elemType;
    if (type) types.set(i.name ?? '', type);
  }
  for (const v of [...(graph.valueInfo ?? []), ...(graph.output ?? [])]) {
    const type = v.type?.tensorType?.elemType;
    if (type && !types.has(v.name ?? '')) types.set(v.name ?? '', type);
  }

  const producer = new Map<string, number>();
  const nodeSource: number[] = [];
  for (const [index, node] of nodes.entries()) {
    let mask = 0;
    for (const input of inputsOf(node)) {
      const s = source.get(input);
      if (s === undefined) return { refused: `node ${node.name || node.opType} reads ${input} before it is made (the graph is not in order)` };
      mask |= s;
    }
    nodeSource.push(mask);
    const outTypes = outputTypes(node, (n) => types.get(n));
    for (const [k, output] of (node.output ?? []).entries()) {
      if (output === '') continue;
      source.set(output, mask);
      producer.set(output, index);
      const type = outTypes[k];
      if (type && !types.has(output)) types.set(output, type);
    }
  }

  const isText = (i: number) => nodeSource[i] === TEXT;
  const isConstant = (i: number) => nodeSource[i] === 0;
  const isRest = (i: number) => (nodeSource[i]! & OTHER) !== 0;

  // The frontier, in the order the rest first reads it; text inputs read past the cut stay the rest's inputs.
  const frontierNames: string[] = [];
  const restTextInputs: string[] = [];
  for (const [index, node] of nodes.entries()) {
    if (!isRest(index)) continue;
    for (const input of inputsOf(node)) {
      if (source.get(input) !== TEXT) continue;
      const list = producer.has(input) ? frontierNames : restTextInputs;
      if (!list.includes(input)) list.push(input);
    }
  }
  if (frontierNames.length === 0) return { refused: 'no tensor computed from the text reaches the image side' };
  const frontier: FrontierTensor[] = [];
  for (const name of frontierNames) {
    const type = CARRIED[types.get(name) ?? 0];
    if (type === undefined) return { refused: `the frontier tensor ${name} has type ${types.get(name) ?? 'unknown'}, which an embedding does not carry` };
    frontier.push({ name, type });
  }
  const outputs = graph.output ?? [];
  const restOutputs = outputs.map((o) => o.name ?? '').filter((n) => source.get(n) !== TEXT);
  if (restOutputs.length === 0) return { refused: 'every output comes from the text alone' };

  const plan: SplitPlan = { frontier, textInputs: [], restTextInputs, restOutputs };
  const textNodes = closure(frontierNames, producer, nodes, (i) => isText(i) || isConstant(i));
  plan.textInputs = presentText.filter((name) => [...textNodes].some((i) => inputsOf(nodes[i]!).includes(name)));
  const result: { plan: SplitPlan; text?: Uint8Array; rest?: Uint8Array } = { plan };
  const inputInfo = (name: string) => graphInputs.find((i) => i.name === name)!;

  if (want.text) {
    result.text = halfModel(model, 'text', {
      nodes: nodes.filter((_, i) => textNodes.has(i)),
      inputs: plan.textInputs.map(inputInfo),
      outputs: frontier.map((f) => valueInfo(f.name, types.get(f.name)!)),
    });
  }
  if (want.rest) {
    const restNodes = new Set(nodes.flatMap((_, i) => (isRest(i) ? [i] : [])));
    // Constants the rest reads (shape constants, weights made by Constant nodes) come along; text nodes never do.
    for (const i of closure(
      [...restNodes].flatMap((i) => inputsOf(nodes[i]!)),
      producer,
      nodes,
      isConstant,
    ))
      restNodes.add(i);
    const otherInputs = graphInputs
      .filter((i) => !presentText.includes(i.name ?? ''))
      .filter((i) => [...restNodes].some((n) => inputsOf(nodes[n]!).includes(i.name ?? '')));
    result.rest = halfModel(model, 'rest', {
      nodes: nodes.filter((_, i) => restNodes.has(i)),
      inputs: [...otherInputs, ...restTextInputs.map(inputInfo), ...frontier.map((f) => valueInfo(f.name, types.get(f.name)!))],
      outputs: outputs.filter((o) => restOutputs.includes(o.name ?? '')),
    });
  }
  return result;
}
