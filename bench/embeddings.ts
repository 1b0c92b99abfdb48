/**
 * `npm run bench -- embeddings`: what the continuous half of the message saves on a per-frame video job with a
 * phrase ("find the red logo in this video": OWL-ViT on every 5th frame, the tracker between). Counted from the
 * outside (runs of graphs that read token ids and no picture) on three ways of running the same job:
 *
 * - the fused graph, as before the text half was cut out: CLIP's text tower runs inside every detector frame;
 * - the two halves, the phrase encoded on the worker: once per job (then remembered by the thread);
 * - the two halves with the planner's embedding in the invocation: not at all on the worker.
 *
 * And on the planner side: one encoding in the bot's text encoder thread (warm) against the cache answering
 * the same words again. The fixture graphs (test/fixtures/owlvit-fixture.ts) cost next to nothing, so the times
 * show our pipeline's own work; the counts are what holds on real weights too, where CLIP's text tower is a
 * 63M-parameter transformer per run.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import pino from 'pino';
import { loadSettings } from '../src/config/settings.ts';
import type { Invocation } from '../src/core/types.ts';
import { createTextEmbedder } from '../src/embedding/embedder.ts';
import { locateFfmpeg, probe } from '../src/media/ffmpeg.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { owlvitTextEmbedding } from '../src/vision/models/owlvit.ts';
import type { LoadedMedia } from '../src/vision/specialist.ts';
import { detectSpecialist } from '../src/vision/tasks/understand/detect.ts';
import { installOwlvitFixture, owlvitFixture } from '../test/fixtures/owlvit-fixture.ts';
import { benchContext } from './context.ts';
import { measureInterleaved, row } from './measure.ts';
import type { BenchSection, MeasureOptions, SectionReport } from './measure.ts';

const exec = promisify(execFile);
const { onnx } = onnxProto;
const PHRASE = 'the red logo';
/** 4 s at 10 fps: 40 frames, 8 of them through the open-vocabulary detector. */
const SECONDS = 4;

/** The OWL-ViT fixture with a control-flow node beside it: the cut refuses such a graph, so it runs fused. */
function unsplittableOwlvit(): Uint8Array {
  const model = onnx.ModelProto.decode(owlvitFixture());
  const branch = (name: string) => ({
    name,
    node: [{ opType: 'Constant', output: [`${name}_out`], attribute: [{ name: 'value_float', type: 1, f: 1 }] }],
    output: [{ name: `${name}_out`, type: { tensorType: { elemType: 1 } } }],
  });
  model.graph?.initializer?.push({ name: 'always', dataType: 9, dims: [], rawData: new Uint8Array([1]) });
  model.graph?.node?.push({
    opType: 'If',
    input: ['always'],
    output: ['unused'],
    attribute: [
      { name: 'then_branch', type: 5, g: branch('then') },
      { name: 'else_branch', type: 5, g: branch('else') },
    ],
  });
  return onnx.ModelProto.encode(model).finish();
}

async function clip(dir: string): Promise<LoadedMedia> {
  const file = path.join(dir, 'red-logo.mp4');
  const tools = await locateFfmpeg(loadSettings(process.env));
  await exec(tools.ffmpeg, [
    ...['-hide_banner', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=c=blue:s=192x144:r=10:d=${SECONDS}`],
    ...['-vf', 'drawbox=x=48:y=36:w=96:h=72:color=red:t=fill', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv444p', file],
  ]);
  const bytes = await fs.readFile(file);
  const facts = await probe(tools, file);
  return {
    info: { id: 'clip', sha256: '', kind: 'video', mime: 'video/mp4', bytes: bytes.length, ...facts },
    bytes,
    path: file,
  };
}

/** A registry counting runs of text encoders (token ids, no picture) and of picture graphs. */
function countingRegistry(modelsDir: string) {
  const counts = { text: 0, picture: 0 };
  const models = new ModelRegistry({
    settings: loadSettings({ MODELS_DIR: modelsDir }),
    log: { warn: () => {} },
    createSession: async (source, options) => {
      const session = typeof source === 'string' ? await ort.InferenceSession.create(source, options) : await ort.InferenceSession.create(source, options);
      const picture = session.inputNames.includes('pixel_values');
      const text = session.inputNames.includes('input_ids');
      const run = session.run.bind(session);
      session.run = ((...args: unknown[]) => {
        // The fused graph reads both: its text tower runs in every one of its runs.
        if (text) counts.text++;
        if (picture) counts.picture++;
        return (run as (...a: unknown[]) => ReturnType<typeof run>)(...args);
      }) as typeof session.run;
      return session;
    },
  });
  return { models, counts };
}

async function runEmbeddingsBench(options: MeasureOptions): Promise<SectionReport> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-embeddings-'));
  const splitDir = path.join(root, 'models');
  const fusedDir = path.join(root, 'fused-models');
  await installOwlvitFixture(splitDir);
  await installOwlvitFixture(fusedDir, { override: { 'onnx/model.onnx': unsplittableOwlvit() } });
  const registries: ModelRegistry[] = [];
  const lines: string[] = [];
  try {
    const video = await clip(root);
    const planned = (await owlvitTextEmbedding(new ModelRegistry({ settings: loadSettings({ MODELS_DIR: splitDir }) }), PHRASE))!;
    const ways = [
      { label: 'fused graph (before this cut)', dir: fusedDir, embeddings: undefined },
      { label: 'two halves, phrase encoded on the worker', dir: splitDir, embeddings: undefined },
      { label: "two halves, the planner's embedding", dir: splitDir, embeddings: { [planned.key]: planned.values } },
    ];
    const contenders = [];
    const encodings: number[] = [];
    lines.push(`  a ${SECONDS} s video, "detect ${PHRASE}": OWL-ViT fixture on every 5th frame; text encodings in the first job on a fresh worker`);
    for (const way of ways) {
      const { models, counts } = countingRegistry(way.dir);
      registries.push(models);
      const context = await benchContext(loadSettings({ MODELS_DIR: way.dir }), models);
      const job = () =>
        detectSpecialist.run({ task: 'detect', media: [video], args: { phrase: PHRASE }, ...(way.embeddings ? { embeddings: way.embeddings } : {}) }, context);
      await job();
      lines.push(`  ${way.label.padEnd(50)} text encodings per job: ${counts.text} (detector frames: ${counts.picture})`);
      encodings.push(counts.text);
      contenders.push({ label: way.label, fn: job });
    }
    lines.push('  time per job, warm (later jobs on the same worker reuse its encoding: no text encodings at all)');
    for (const m of await measureInterleaved(contenders, options)) lines.push(row(m.label, m));

    const embedder = createTextEmbedder(loadSettings({ MODELS_DIR: splitDir }), pino({ level: 'silent' }), { waitMs: 120_000 });
    try {
      const turn = (phrase: string): Invocation[] => [{ task: 'detect', targets: ['current'], args: { phrase } }];
      await embedder.embed(turn('the green logo'));
      let fresh = 0;
      const [encode, cached] = await measureInterleaved(
        [
          { label: 'planner: a new phrase, encoder thread (warm)', fn: () => embedder.embed(turn(`the red logo ${fresh++}`)) },
          { label: 'planner: the same phrase again (cache)', fn: () => embedder.embed(turn('the green logo')) },
        ],
        options,
      );
      lines.push(row(encode!.label, encode), row(cached!.label, cached));
      lines.push(`  planner-side encodings: ${embedder.stats.encoded}, answered from the cache: ${embedder.stats.reused}`);
    } finally {
      await embedder.close();
    }
    const goal = (text: string, limit: number, actual: number | undefined) =>
      `  goal: ${text} ≤ ${limit}: ${actual ?? 'not measured'} ${actual !== undefined && actual <= limit ? 'MET' : 'NOT MET'}`;
    lines.push(goal('text encodings per video job with a phrase', 1, encodings[1]), goal("… with the planner's embedding", 0, encodings[2]));
  } finally {
    await Promise.all(registries.map((r) => r.dispose()));
    await fs.rm(root, { recursive: true, force: true });
  }
  return { title: 'embeddings: the continuous half on a per-frame video job', lines, goals: [] };
}

export const embeddingsSection: BenchSection = { name: 'embeddings', run: runEmbeddingsBench };
