import path from 'node:path';
import { InternalError } from '../../errors.ts';
import { packageRoot } from './model-files.ts';
import type { LocatedFile, ModelLocation } from './model-files.ts';

/**
 * TensorFlow.js for the models that npm ships in tfjs format (CenterNet, BlazeFace, ESRGAN-slim). The WASM
 * backend needs no native install and no GPU; in Node it is single-threaded, so callers keep inputs small.
 * Loaded lazily: a process that never runs a tfjs model never pays for it.
 */

type Tf = typeof import('@tensorflow/tfjs-core');
type TfConverter = typeof import('@tensorflow/tfjs-converter');
type TfLayers = typeof import('@tensorflow/tfjs-layers');

export interface TfjsRuntime {
  tf: Tf;
  converter: TfConverter;
  layers: TfLayers;
}

let runtime: Promise<TfjsRuntime> | undefined;

async function start(): Promise<TfjsRuntime> {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const [converter, layers] = await Promise.all([import('@tensorflow/tfjs-converter'), import('@tensorflow/tfjs-layers')]);
  const root = packageRoot('@tensorflow/tfjs-backend-wasm');
  if (root === undefined) throw new InternalError('@tensorflow/tfjs-backend-wasm is not installed.');
  // Without explicit paths the backend tries to fetch its .wasm next to the page URL, which Node has not.
  wasm.setWasmPaths(`${path.join(root, 'dist')}${path.sep}`);
  if (!(await tf.setBackend('wasm'))) throw new InternalError('The TensorFlow.js WASM backend failed to initialise.');
  await tf.ready();
  // Models are loaded once and kept; tfjs' production mode skips per-op NaN checks.
  tf.enableProdMode();
  return { tf, converter, layers };
}

/** The process's tfjs with the WASM backend ready; concurrent first calls share one start. */
export function tfjs(): Promise<TfjsRuntime> {
  runtime ??= start();
  runtime.catch(() => {
    runtime = undefined;
  });
  return runtime;
}

interface ModelJson {
  modelTopology: unknown;
  weightsManifest: { paths: string[]; weights: unknown[] }[];
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  signature?: unknown;
  userDefinedMetadata?: Record<string, unknown>;
}

/**
 * A tfjs model's artifacts from its located files: the `config` file is model.json, `weights` files are
 * its shards (matched by base name). Loaded from memory because tfjs' file:// handler lives in tfjs-node.
 */
async function artifacts(location: ModelLocation): Promise<import('@tensorflow/tfjs-core').io.ModelArtifacts> {
  const json = location.files.find((f) => f.file.role === 'config');
  if (json === undefined) throw new InternalError(`Model "${location.entry.name}" has no model.json (role config) in the catalog.`);
  const model = JSON.parse((await json.read()).toString('utf8')) as ModelJson;
  const shards = new Map<string, LocatedFile>();
  for (const f of location.files) if (f.file.role === 'weights') shards.set(path.basename(f.file.name), f);
  const weightSpecs: unknown[] = [];
  const buffers: Buffer[] = [];
  for (const group of model.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shardPath of group.paths) {
      const shard = shards.get(path.basename(shardPath));
      if (shard === undefined) throw new InternalError(`Model "${location.entry.name}" lists weight shard ${shardPath}, which the catalog does not.`);
      buffers.push(await shard.read());
    }
  }
  const all = Buffer.concat(buffers);
  return {
    modelTopology: model.modelTopology as never,
    weightSpecs: weightSpecs as never,
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy ?? undefined,
    signature: model.signature as never,
    userDefinedMetadata: model.userDefinedMetadata as never,
  };
}

export type GraphModel = import('@tensorflow/tfjs-converter').GraphModel;
export type LayersModel = import('@tensorflow/tfjs-layers').LayersModel;

export async function loadGraphModel(location: ModelLocation): Promise<GraphModel> {
  const { tf, converter } = await tfjs();
  return converter.loadGraphModel(tf.io.fromMemory(await artifacts(location)));
}

export async function loadLayersModel(location: ModelLocation): Promise<LayersModel> {
  const { tf, layers } = await tfjs();
  return layers.loadLayersModel(tf.io.fromMemory(await artifacts(location)));
}
