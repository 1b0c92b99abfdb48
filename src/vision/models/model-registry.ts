import * as ort from 'onnxruntime-node';
import type { Settings } from '../../config/settings.ts';
import { InternalError, ModelNotInstalledError, ToolMissingError } from '../../errors.ts';
import { CATALOG, howToGet } from '../../../models/catalog.ts';
import type { ModelEntry, ModelFileRole } from '../../../models/catalog.ts';
import { fileWithRole, locateModel } from './model-files.ts';
import type { LocatedFile, ModelLocation } from './model-files.ts';
import { loadGraphModel, loadLayersModel } from './tfjs-runtime.ts';
import type { GraphModel, LayersModel } from './tfjs-runtime.ts';
import { widenFloat16 } from './widen-float16.ts';

/** DATA_DIR and PREFER_MODELS: model choice reads this machine's `npm run eval` numbers (measured-quality.ts) through the registry. */
export type RegistrySettings = Pick<Settings, 'MODELS_DIR' | 'ORT_PROVIDER' | 'ORT_CUDA_FALLBACK' | 'inferenceThreads' | 'DATA_DIR' | 'PREFER_MODELS'>;

export interface RegistryLogger {
  warn(message: string): void;
}

type SessionFactory = (model: string | Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;

export interface ModelRegistryOptions {
  settings: RegistrySettings;
  catalog?: readonly ModelEntry[];
  log?: RegistryLogger;
  /** Injected by tests to observe how sessions are created; defaults to onnxruntime-node. */
  createSession?: SessionFactory;
}

export interface SessionRequest {
  /** The task asking, so that a missing model is reported against it. */
  task?: string;
  /** Which ONNX file of a multi-graph model (catalog file name); the first one by default. */
  file?: string;
}

const defaultFactory: SessionFactory = (model, options) =>
  typeof model === 'string' ? ort.InferenceSession.create(model, options) : ort.InferenceSession.create(model, options);

/**
 * Session options of one model over the shared ones, each measured on that model (3 runs at 1024², glibc
 * trimming on as `npm start` sets it): ISNet's memory-pattern plan and CPU arena keep their buffers for the
 * next run (steady RSS 1421 MiB with the arena, 422–548 without; the arena's speed could not be priced on a
 * loaded machine), and the layout rewrites of level 'all' hold another ≈85 MiB (steady 535 → 452 MiB, max
 * 1118–1163 → 980–1022 MiB at 'extended', within 3 % of its time).
 */
const NO_SPIN: ort.InferenceSession.SessionOptions = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

const SESSION_OPTIONS_BY_MODEL: Readonly<Record<string, ort.InferenceSession.SessionOptions>> = {
  // Constant folding would fold the float16 weights' Casts (GRAPH_REWRITES_BY_MODEL) into float32 copies again.
  isnet: {
    enableMemPattern: false,
    enableCpuMemArena: false,
    graphOptimizationLevel: 'extended',
    extra: { optimization: { disable_specified_optimizers: 'ConstantFolding' } },
  },
  // OCR's two small graphs run many short operators: the intra-op thread's spin-wait after each, left on,
  // took a core the main thread's own work around the models needed. Alternated runs on 2 cores (bench/ocr
  // pipeline, median of 40): 149–193 ms without the spin against 164–206 ms with it.
  'ppocr-v4-det': NO_SPIN,
  'ppocr-v4-rec': NO_SPIN,
};

/**
 * Rewrites of a model's graph before onnxruntime reads it for the CPU, each measured on that model: ISNet's
 * export is float16, which the CPU provider runs by casting around its nodes and folding float32 copies of the
 * weights; run in float32 with its weights kept float16 and only `output` kept (salientMask fetches nothing
 * else), a run at 1024² peaks ≈100 MiB lower, holds ≈90 MiB less than with widened weights, and takes the same
 * time (widen-float16.ts, docs/models.md).
 */
const GRAPH_REWRITES_BY_MODEL: Readonly<Record<string, (model: Uint8Array) => Uint8Array>> = {
  isnet: (model) => widenFloat16(model, { weights: 'float16', outputs: ['output'] }),
};

function damagedModelError(name: string, where: string, error: unknown): InternalError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new InternalError(
    `The model "${name}" could not be loaded from ${where}: ${reason}. The file may be incomplete or damaged: ` +
      `run \`npm run models -- check\`, then \`npm run models -- remove ${name}\` and pull or copy it again.`,
    error,
  );
}

const INSTALL_CUDA = '`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node`';

/**
 * Loads each model once and keeps it warm. Concurrent first calls share one load; a failed load is
 * forgotten so the next call tries again. The execution provider is chosen explicitly (ORT_PROVIDER):
 * onnxruntime-node throws when asked for CUDA on a machine without it, and we fall back to CPU only when
 * ORT_CUDA_FALLBACK allows it, saying so once; otherwise every load fails with a typed error.
 */
export class ModelRegistry {
  readonly settings: RegistrySettings;
  private readonly catalog: readonly ModelEntry[];
  private readonly log: RegistryLogger;
  private readonly createSession: SessionFactory;
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly texts = new Map<string, Promise<string>>();
  private readonly jsons = new Map<string, Promise<Record<string, unknown>>>();
  private readonly tfjsModels = new Map<string, Promise<GraphModel | LayersModel>>();
  private cudaUnavailable = false;
  private disposed = false;

  constructor(options: ModelRegistryOptions) {
    this.settings = options.settings;
    this.catalog = options.catalog ?? CATALOG;
    this.log = options.log ?? { warn: (message) => console.warn(message) };
    this.createSession = options.createSession ?? defaultFactory;
  }

  /** A warning for the operator, through the registry's logger (a model used a slower path, say). */
  warn(message: string): void {
    this.log.warn(message);
  }

  /** The provider sessions are created with now ('cuda' until a CUDA load has failed). */
  get executionProvider(): 'cpu' | 'cuda' {
    return this.settings.ORT_PROVIDER === 'cuda' && !this.cudaUnavailable ? 'cuda' : 'cpu';
  }

  entry(name: string): ModelEntry {
    const entry = this.catalog.find((e) => e.name === name);
    if (entry === undefined) throw new InternalError(`Model "${name}" is not in the model catalog.`);
    return entry;
  }

  entries(): readonly ModelEntry[] {
    return this.catalog;
  }

  isInstalled(name: string): boolean {
    return locateModel(this.entry(name), this.settings.MODELS_DIR) !== undefined;
  }

  /** What an operator must do to install the model, in one paragraph. */
  howToGet(name: string): string {
    return howToGet(this.entry(name), this.settings.MODELS_DIR);
  }

  /** The model's files, or ModelNotInstalledError naming the model and how to get it. */
  require(name: string, task?: string): ModelLocation {
    const entry = this.entry(name);
    const location = locateModel(entry, this.settings.MODELS_DIR);
    if (location === undefined) {
      throw new ModelNotInstalledError(task ?? entry.tasks[0] ?? name, name, howToGet(entry, this.settings.MODELS_DIR));
    }
    return location;
  }

  /** The warm session for a model's ONNX graph, loading it on first use. */
  session(name: string, request: SessionRequest = {}): Promise<ort.InferenceSession> {
    return this.warm(name, request.task, (location) => {
      const file = fileWithRole(location, 'onnx', request.file);
      if (file === undefined) throw new InternalError(`Model "${name}" has no ONNX file${request.file ? ` named ${request.file}` : ''}.`);
      return [this.sessions, `${name}\u0000${file.file.name}`, () => this.load(name, file)];
    });
  }

  /**
   * A warm session for a graph made from a model's files rather than read from one (the halves of a fused
   * graph, onnx-split.ts), built on first use and kept like any other session under `name/label`.
   */
  derivedSession(name: string, label: string, build: (location: ModelLocation) => Promise<Uint8Array>, task?: string): Promise<ort.InferenceSession> {
    return this.warm(name, task, (location) => [
      this.sessions,
      `${name}\u0000${label}`,
      async () => this.loadSource(name, `${label} (made from ${location.files[0]?.where ?? name})`, await build(location)),
    ]);
  }

  /** The warm tfjs graph model (CenterNet, BlazeFace), loaded on first use on tfjs' WASM backend. */
  graphModel(name: string, task?: string): Promise<GraphModel> {
    return this.tfjsModel(name, task, 'graph') as Promise<GraphModel>;
  }

  /** The warm tfjs layers model (ESRGAN-slim). */
  layersModel(name: string, task?: string): Promise<LayersModel> {
    return this.tfjsModel(name, task, 'layers') as Promise<LayersModel>;
  }

  private tfjsModel(name: string, task: string | undefined, kind: 'graph' | 'layers'): Promise<GraphModel | LayersModel> {
    return this.warm(name, task, (location) => [this.tfjsModels, name, () => (kind === 'graph' ? loadGraphModel(location) : loadLayersModel(location))]);
  }

  /**
   * What every loader shares: the model must be installed (a missing one arrives as a rejection, since callers
   * await, not as a synchronous throw), and each model is loaded once — kept under its key while it loads and
   * after, forgotten if the load fails so the next request tries again.
   */
  private warm<T>(
    name: string,
    task: string | undefined,
    pick: (location: ModelLocation) => [cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>],
  ): Promise<T> {
    if (this.disposed) return Promise.reject(new InternalError('The model registry was disposed.'));
    let cache: Map<string, Promise<T>>;
    let key: string;
    let load: () => Promise<T>;
    try {
      [cache, key, load] = pick(this.require(name, task));
    } catch (error) {
      return Promise.reject(error);
    }
    let pending = cache.get(key);
    if (pending === undefined) {
      pending = load();
      cache.set(key, pending);
      pending.catch(() => cache.delete(key));
    }
    return pending;
  }

  /** A text file of a model (an OCR dictionary…), read once. */
  text(name: string, role: ModelFileRole, task?: string): Promise<string> {
    let location: ModelLocation;
    try {
      location = this.require(name, task);
    } catch (error) {
      return Promise.reject(error);
    }
    const file = fileWithRole(location, role);
    if (file === undefined) return Promise.reject(new InternalError(`Model "${name}" has no ${role} file.`));
    const key = `${name}\u0000${file.file.name}`;
    let pending = this.texts.get(key);
    if (pending === undefined) {
      pending = file.read().then((b) => b.toString('utf8'));
      this.texts.set(key, pending);
      pending.catch(() => this.texts.delete(key));
    }
    return pending;
  }

  /**
   * A model's JSON config file (`preprocessor_config.json`, `config.json`) as an object, read and parsed
   * once; undefined when the catalog lists no config file of that name. A damaged file is an operator's
   * fault with a known fix, so it says which file and what to run.
   */
  json(name: string, fileName: string, task?: string): Promise<Record<string, unknown> | undefined> {
    let location: ModelLocation;
    try {
      location = this.require(name, task);
    } catch (error) {
      return Promise.reject(error);
    }
    const file = fileWithRole(location, 'config', fileName);
    if (file === undefined) return Promise.resolve(undefined);
    const key = `${name}\u0000${file.file.name}`;
    let pending = this.jsons.get(key);
    if (pending === undefined) {
      pending = file.read().then((bytes) => parseConfig(bytes, file.where, name));
      this.jsons.set(key, pending);
      pending.catch(() => this.jsons.delete(key));
    }
    return pending;
  }

  /** Names of the sessions loaded so far (for /healthz). */
  loadedSessions(): string[] {
    return [...this.sessions.keys()].map((k) => k.replace('\u0000', '/')).concat([...this.tfjsModels.keys()].map((k) => `${k} (tfjs)`));
  }

  private options(provider: 'cpu' | 'cuda', model: string): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: [provider],
      intraOpNumThreads: this.settings.inferenceThreads,
      // One graph at a time: inter-op parallelism only helps branchy graphs and fights intra-op threads for cores.
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      ...SESSION_OPTIONS_BY_MODEL[model],
    };
  }

  private async load(name: string, file: LocatedFile): Promise<ort.InferenceSession> {
    // CUDA has float16 kernels: there the graph runs as exported.
    const rewrite = this.executionProvider === 'cpu' ? GRAPH_REWRITES_BY_MODEL[name] : undefined;
    if (rewrite === undefined) return this.loadSource(name, file.where, file.path ?? (await file.read()));
    let rewritten: Uint8Array;
    try {
      rewritten = rewrite(await file.read());
    } catch (error) {
      throw damagedModelError(name, file.where, error);
    }
    return this.loadSource(name, file.where, rewritten);
  }

  private async loadSource(name: string, where: string, source: string | Uint8Array): Promise<ort.InferenceSession> {
    if (this.settings.ORT_PROVIDER === 'cpu') return this.loadOnCpu(name, where, source);
    if (this.cudaUnavailable) {
      if (!this.settings.ORT_CUDA_FALLBACK) throw cudaMissingError();
      return this.loadOnCpu(name, where, source);
    }
    try {
      return await this.createSession(source, this.options('cuda', name));
    } catch (cudaError) {
      // A broken model fails on CPU too (and says so); only if the CPU load works was it the provider.
      const session = await this.loadOnCpu(name, where, source);
      if (!this.cudaUnavailable) {
        this.cudaUnavailable = true;
        this.log.warn(cudaMissingLine(cudaError, this.settings.ORT_CUDA_FALLBACK));
      }
      if (this.settings.ORT_CUDA_FALLBACK) return session;
      await session.release();
      throw cudaMissingError();
    }
  }

  private async loadOnCpu(name: string, where: string, source: string | Uint8Array): Promise<ort.InferenceSession> {
    try {
      return await this.createSession(source, this.options('cpu', name));
    } catch (error) {
      throw damagedModelError(name, where, error);
    }
  }

  /** Releases every session; errors are collected so that one bad release does not leak the others. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const pending = [...this.sessions.values()];
    this.sessions.clear();
    this.texts.clear();
    this.jsons.clear();
    const tfjsPending = [...this.tfjsModels.values()];
    this.tfjsModels.clear();
    await Promise.allSettled(
      tfjsPending.map((p) =>
        p.then(
          (m) => m.dispose(),
          () => undefined,
        ),
      ),
    );
    // A session that failed to load has nothing to release: only release failures are reported.
    const results = await Promise.allSettled(
      pending.map((p) =>
        p.then(
          (s) => s.release(),
          () => undefined,
        ),
      ),
    );
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failures.length > 0) this.log.warn(`Releasing ${failures.length} model session(s) failed: ${String(failures[0]!.reason)}`);
  }
}

function cudaMissingLine(cudaError: unknown, fallback: boolean): string {
  const reason = cudaError instanceof Error ? cudaError.message.split('\n')[0] : String(cudaError);
  return fallback
    ? `ORT_PROVIDER=cuda but the CUDA execution provider could not be used (${reason}); ORT_CUDA_FALLBACK=true, so all models run on CPU. Install the provider with ${INSTALL_CUDA} on a CUDA machine.`
    : `ORT_PROVIDER=cuda but the CUDA execution provider could not be used (${reason}); ORT_CUDA_FALLBACK=false, so no model will load until it is installed (${INSTALL_CUDA}) or ORT_CUDA_FALLBACK=true.`;
}

/** ORT_PROVIDER=cuda without a usable CUDA provider, and CPU fallback not allowed: what to do, exactly. */
export function cudaMissingError(): ToolMissingError {
  return new ToolMissingError(
    'The CUDA execution provider of onnxruntime-node',
    `ORT_PROVIDER=cuda and ORT_CUDA_FALLBACK=false, so models are not run on CPU instead: install the provider with ${INSTALL_CUDA} on a machine with CUDA 12, or set ORT_CUDA_FALLBACK=true to run on CPU.`,
  );
}

function parseConfig(bytes: Buffer, where: string, model: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new InternalError(
      `${where} is not valid JSON (${error instanceof Error ? error.message : String(error)}): run \`npm run models -- check\`, then remove and pull ${model} again.`,
      error,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InternalError(`${where} should hold a JSON object.`);
  return value as Record<string, unknown>;
}
