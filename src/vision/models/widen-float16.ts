import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';

/**
 * Rewrites a float16 ONNX graph so that onnxruntime's CPU provider runs it in float32 throughout: every
 * float16 constant is widened (exactly: each half is a float), every Cast to float16 becomes a Cast to float32
 * (a no-op that onnxruntime removes), and every float16 input, output and intermediate type is declared float32.
 * The weights either stay float16, each read through one Cast to float32 placed before its first use, or are
 * widened too.
 *
 * Why: the CPU provider has no float16 kernels for most of such a graph (ISNet's Conv, Relu, MaxPool), so at
 * load it wraps those nodes in Casts and, at the default optimisation levels, folds every cast weight into a
 * float32 copy; a run then holds float16 and float32 copies of large activations side by side. Measured on
 * ISNet at 1024² (docs/models.md): the same output to 5e-6, and with the weights kept float16 (and constant
 * folding off for the model, so they stay so) ≈100 MiB less at the peak of a run than the export as it is.
 */

const { onnx } = onnxProto;
type Tensor = OnnxTypes.ITensorProto;
type Graph = OnnxTypes.IGraphProto;
type ValueInfo = OnnxTypes.IValueInfoProto;
type TypeProto = OnnxTypes.ITypeProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;

/** Every float16 bit pattern as the float32 it stands for. */
let halfTable: Float32Array | undefined;

function halves(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits += 1) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * 2 ** -14 * (fraction / 1024);
    else if (exponent === 31) table[bits] = fraction === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
    else table[bits] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
  }
  halfTable = table;
  return table;
}

/** The float32 values of a float16 tensor stored either way ONNX allows: raw little-endian bytes or int32_data. */
function widenedValues(tensor: Tensor): Float32Array {
  const table = halves();
  const raw = tensor.rawData;
  if (raw && raw.length > 0) {
    const count = raw.length >> 1;
    const out = new Float32Array(count);
    for (let i = 0; i < count; i += 1) out[i] = table[raw[2 * i]! | (raw[2 * i + 1]! << 8)]!;
    return out;
  }
  // Without raw_data, ONNX keeps each half's 16 bits in the low bits of one int32_data entry.
  const bits = tensor.int32Data ?? [];
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i += 1) out[i] = table[bits[i]! & 0xffff]!;
  return out;
}

function widenTensor(tensor: Tensor | null | undefined): void {
  if (!tensor || tensor.dataType !== FLOAT16) return;
  if (tensor.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL) {
    throw new Error(`tensor "${tensor.name ?? ''}" keeps its float16 data in an external file, which this rewrite does not read`);
  }
  const values = widenedValues(tensor);
  tensor.dataType = FLOAT;
  tensor.rawData = new Uint8Array(values.buffer);
  tensor.int32Data = [];
}

function widenType(type: TypeProto | null | undefined): void {
  if (!type) return;
  if (type.tensorType?.elemType === FLOAT16) type.tensorType.elemType = FLOAT;
  widenType(type.sequenceType?.elemType);
  widenType(type.optionalType?.elemType);
  widenType(type.mapType?.valueType);
}

function widenValueInfos(infos: ValueInfo[] | null | undefined): void {
  for (const info of infos ?? []) widenType(info.type);
}

function widenGraph(graph: Graph | null | undefined, weights: WeightPrecision): void {
  if (!graph) return;
  if (weights === 'float32') for (const tensor of graph.initializer ?? []) widenTensor(tensor);
  else castHalfWeights(graph);
  for (const sparse of graph.sparseInitializer ?? []) widenTensor(sparse.values);
  widenValueInfos(graph.input);
  widenValueInfos(graph.output);
  widenValueInfos(graph.valueInfo);
  widenNodes(graph.node, weights);
}

/** Leaves each float16 initializer as it is and feeds its readers a Cast to float32 made just before the first of them. */
function castHalfWeights(graph: Graph): void {
  const half = new Set((graph.initializer ?? []).filter((t) => t.dataType === FLOAT16).map((t) => t.name ?? ''));
  if (half.size === 0) return;
  const cast = new Set<string>();
  const nodes: OnnxTypes.INodeProto[] = [];
  for (const node of graph.node ?? []) {
    node.input = (node.input ?? []).map((input) => {
      if (!half.has(input)) return input;
      const widened = `${input}::float32`;
      if (!cast.has(input)) {
        cast.add(input);
        nodes.push(
          onnx.NodeProto.create({
            opType: 'Cast',
            name: `${input}::cast`,
            input: [input],
            output: [widened],
            attribute: [onnx.AttributeProto.create({ name: 'to', type: onnx.AttributeProto.AttributeType.INT, i: FLOAT })],
          }),
        );
      }
      return widened;
    });
    nodes.push(node);
  }
  graph.node = nodes;
}

function widenNodes(nodes: OnnxTypes.INodeProto[] | null | undefined, weights: WeightPrecision): void {
  for (const node of nodes ?? []) {
    for (const attribute of node.attribute ?? []) {
      widenTensor(attribute.t);
      for (const tensor of attribute.tensors ?? []) widenTensor(tensor);
      widenGraph(attribute.g, weights);
      for (const sub of attribute.graphs ?? []) widenGraph(sub, weights);
      // Cast's target, and the type chosen by the nodes that make a tensor of a given type (EyeLike, RandomNormal…).
      if ((attribute.name === 'to' || attribute.name === 'dtype') && Number(attribute.i) === FLOAT16) attribute.i = FLOAT;
    }
  }
}

/** float16: weights stay half in memory and are cast on every run; float32: widened once, twice the memory, no casts. */
export type WeightPrecision = 'float16' | 'float32';

export interface WidenOptions {
  weights: WeightPrecision;
  /** Keep only these graph outputs and the nodes they need (the rest would be computed and held for nothing). */
  outputs?: readonly string[];
}

/** The float32-running version of a float16 ONNX model's bytes (a model without float16 keeps its meaning). */
export function widenFloat16(model: Uint8Array, options: WidenOptions): Uint8Array {
  const decoded = onnx.ModelProto.decode(model);
  if (decoded.graph && options.outputs) keepOutputs(decoded.graph, options.outputs);
  widenGraph(decoded.graph, options.weights);
  for (const fn of decoded.functions ?? []) widenNodes(fn.node, options.weights);
  return onnx.ModelProto.encode(decoded).finish();
}

/** Drops every other graph output, then every node and initializer none of the kept outputs depends on. */
function keepOutputs(graph: Graph, outputs: readonly string[]): void {
  const missing = outputs.filter((name) => !(graph.output ?? []).some((o) => o.name === name));
  if (missing.length > 0) throw new Error(`the graph has no output named ${missing.join(', ')}`);
  graph.output = (graph.output ?? []).filter((o) => outputs.includes(o.name ?? ''));
  // A subgraph's reads of outer names are hidden in its body: with one, every node stays.
  if ((graph.node ?? []).some((n) => (n.attribute ?? []).some((a) => a.g || (a.graphs?.length ?? 0) > 0))) return;
  const needed = new Set(outputs);
  const kept = new Set<OnnxTypes.INodeProto>();
  // Node order is not trusted to be topological: grow the set until nothing new is needed.
  for (let grew = true; grew; ) {
    grew = false;
    for (const node of graph.node ?? []) {
      if (kept.has(node) || !(node.output ?? []).some((o) => needed.has(o))) continue;
      kept.add(node);
      grew = true;
      for (const input of node.input ?? []) needed.add(input);
    }
  }
  graph.node = (graph.node ?? []).filter((n) => kept.has(n));
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
}
