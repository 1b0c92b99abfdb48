/**
 * `npm run bench -- generation`: the in-process SD-Turbo engine against its floor — the same graphs' raw
 * `session.run` calls replayed on the very tensors the engine fed them (text encoder, UNet per step, VAE
 * decoder), measured interleaved in the same run — and the time to the first preview. On the fixture graphs
 * (test/fixtures/sd-turbo-fixture.ts, built per run) the graphs cost next to nothing, so the ratio there is the
 * pipeline's own work (tokenizer, noise, scaling, previews, PNG) made visible in milliseconds; the ≤ 1.05× goal
 * is read on real weights, measured when an SD-Turbo export is installed in MODELS_DIR (with the peak RSS of one
 * 512² generation). Other engines add their rows through EXTRA_ROWS below.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { GenerationCallbacks, GenerationRequest } from '../src/vision/engines/engine.ts';
import { GRAPH_FILES, SD_TURBO_MODELS, createSdTurboEngine } from '../src/vision/engines/sd-turbo.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import type { RegistrySettings } from '../src/vision/models/model-registry.ts';
import { installSdTurboFixture } from '../test/fixtures/sd-turbo-fixture.ts';
import { benchSettings, reason } from './context.ts';
import { formatGoal, formatMs, measureInterleaved, median, row, versus } from './measure.ts';
import type { BenchSection, Goal, MeasureOptions, SectionReport } from './measure.ts';
import { comfyUiGenerationRows } from './generation-comfyui.ts';
import { videoEditRows } from './generation-video-edit.ts';

/** Rows another engine contributes to this section (ComfyUI's per-job overhead against the fake, …). */
export interface GenerationRows {
  name: string;
  run(options: MeasureOptions): Promise<{ lines: string[]; goals: Goal[] }>;
}

/**
 * Extra rows, run after the SD-Turbo ones, each under its own heading. To add some, write them in their own
 * file (e.g. bench/generation-comfyui.ts exporting a GenerationRows) and append it here.
 */
export const EXTRA_ROWS: GenerationRows[] = [
  {
    name: 'ComfyUI engine against posting the same workflow straight to the fake',
    // Its goal is in milliseconds and its own lines say it; the ratio goals below are SD-Turbo's.
    run: async (options) => ({ lines: (await comfyUiGenerationRows(options)).lines, goals: [] }),
  },
];

/** An installed export whose UNet is under this size is a fixture or a broken download, not real weights. */
const REAL_UNET_BYTES = 100_000_000;

interface Recorded {
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  fetches?: string[];
}

function copyTensor(t: ort.Tensor): ort.Tensor {
  // The engine may reuse its buffers between runs: the replay needs the values as they were.
  return new ort.Tensor(t.type as 'float32', (t.data as Float32Array).slice(), t.dims);
}

/** A registry whose sessions can record each run's feeds (any tensor type), to replay them as the floor. */
function recordingRegistry(settings: RegistrySettings): { models: ModelRegistry; record(fn: () => Promise<unknown>): Promise<() => Promise<void>> } {
  let recording = false;
  let runs: Recorded[] = [];
  const models = new ModelRegistry({
    settings,
    createSession: async (model, options) => {
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      const run = session.run.bind(session) as (feeds: Record<string, ort.Tensor>, fetches?: string[]) => Promise<ort.InferenceSession.ReturnType>;
      (session as { run: unknown }).run = (feeds: Record<string, ort.Tensor>, fetches?: string[]) => {
        if (recording)
          runs.push({
            session,
            feeds: Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, copyTensor(t)])),
            fetches: Array.isArray(fetches) ? [...fetches] : undefined,
          });
        return run(feeds, fetches);
      };
      return session;
    },
  });
  return {
    models,
    async record(fn) {
      runs = [];
      recording = true;
      try {
        await fn();
      } finally {
        recording = false;
      }
      const replay = runs;
      return async () => {
        for (const r of replay) await (r.fetches ? r.session.run(r.feeds, r.fetches) : r.session.run(r.feeds));
      };
    },
  };
}

function quietCallbacks(onPreview?: () => void): GenerationCallbacks {
  return { progress: () => {}, preview: () => onPreview?.(), signal: new AbortController().signal };
}

/** Milliseconds from the start of generate() to the first preview, median of `runs`. */
async function firstPreviewMs(generate: (callbacks: GenerationCallbacks) => Promise<unknown>, runs: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    let at = Number.NaN;
    await generate(
      quietCallbacks(() => {
        if (Number.isNaN(at)) at = performance.now() - start;
      }),
    );
    samples.push(at);
  }
  return median(samples);
}

/** Peak resident memory while `fn` runs, sampled every 20 ms (plus before and after). */
async function peakRss(fn: () => Promise<unknown>): Promise<number> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 20);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, process.memoryUsage().rss);
}

interface Case {
  label: string;
  settings: RegistrySettings;
  request: GenerationRequest;
  real: boolean;
}

async function runCase(c: Case, options: MeasureOptions): Promise<{ lines: string[]; ratio: number }> {
  const recorder = recordingRegistry(c.settings);
  const engine = createSdTurboEngine(recorder.models);
  const generate = (callbacks: GenerationCallbacks) => engine.generate(c.request, callbacks);
  const lines: string[] = [];
  try {
    const rssBefore = process.memoryUsage().rss;
    const peak = await peakRss(() => generate(quietCallbacks()));
    const floor = await recorder.record(() => generate(quietCallbacks()));
    const [f, p] = await measureInterleaved(
      [
        { label: 'floor: text enc + UNet×steps + VAE dec session.run', fn: floor },
        { label: 'our pipeline: sd-turbo engine.generate', fn: () => generate(quietCallbacks()) },
      ],
      options,
    );
    const preview = await firstPreviewMs(generate, Math.max(1, Math.min(options.runs ?? 5, 3)));
    const { width, height, steps = 1 } = c.request;
    lines.push(`  ${c.label}: text-to-image ${width}×${height}, ${steps} step(s), previews on; median of ${options.runs ?? 5}, interleaved`);
    lines.push(row(f!.label, f));
    lines.push(row(p!.label, p, `${versus(p!, f!)}, overhead ${formatMs(p!.medianMs - f!.medianMs)}`));
    lines.push(`  ${'time to first preview'.padEnd(50)} ${formatMs(preview).padStart(9)}`);
    if (c.real)
      lines.push(
        `  ${'peak RSS during the first generation'.padEnd(50)} ${(peak / 2 ** 20).toFixed(0).padStart(6)} MiB (before: ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`,
      );
    return { lines, ratio: p!.medianMs / f!.medianMs };
  } finally {
    await recorder.models.dispose();
  }
}

/** The installed SD-Turbo export with real weights in MODELS_DIR, if any. */
async function realExport(settings: RegistrySettings): Promise<string | undefined> {
  const models = new ModelRegistry({ settings });
  for (const name of SD_TURBO_MODELS[settings.ORT_PROVIDER === 'cuda' ? 'cuda' : 'cpu']) {
    if (!models.isInstalled(name)) continue;
    const unet = path.join(settings.MODELS_DIR, name, GRAPH_FILES.unet);
    const data = path.join(settings.MODELS_DIR, name, 'unet/model.onnx_data');
    const size =
      (await fs.stat(unet)).size +
      (await fs
        .stat(data)
        .then((s) => s.size)
        .catch(() => 0));
    if (size >= REAL_UNET_BYTES) return name;
  }
  return undefined;
}

const request = (size: number, steps: number): GenerationRequest => ({
  operation: 'text-to-image',
  task: 'generate_image',
  prompt: 'a red fox in the snow',
  seed: 1,
  steps,
  width: size,
  height: size,
  count: 1,
});

export const generationSection: BenchSection = {
  name: 'generation',
  async run(options: MeasureOptions): Promise<SectionReport> {
    const settings = benchSettings();
    const lines: string[] = [];
    const goals: Goal[] = [];
    const fixtureDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-sd-turbo-'));
    try {
      await installSdTurboFixture(fixtureDir);
      const fixtureSettings = { ...settings, MODELS_DIR: fixtureDir };
      for (const [size, steps] of [
        [512, 1],
        [512, 4],
      ] as const) {
        const fixture = await runCase(
          { label: 'fixture graphs (oracle UNet)', settings: fixtureSettings, request: request(size, steps), real: false },
          options,
        );
        lines.push(...fixture.lines);
      }
      const real = await realExport(settings);
      if (real === undefined) {
        lines.push(
          `  real weights: no SD-Turbo export with real weights in ${settings.MODELS_DIR} (npm run models -- pull sd-turbo, or sd-turbo-cpu): not measured`,
        );
        goals.push({ text: 'sd-turbo pipeline / its session.run calls, real weights, 512²', limit: 1.05 });
      } else {
        const realCase = await runCase(
          { label: `real weights (${real})`, settings, request: request(512, 1), real: true },
          { runs: Math.min(options.runs ?? 5, 3), warmup: 1 },
        );
        lines.push(...realCase.lines);
        goals.push({ text: `sd-turbo pipeline / its session.run calls, ${real}, 512²`, limit: 1.05, actual: realCase.ratio });
      }
      lines.push(`  -- a video edited by words frame by frame (in-process SD-Turbo, image-to-image, one seed) --`);
      lines.push(...(await videoEditRows(options, real)).lines);
    } catch (error) {
      lines.push(`  sd-turbo rows failed: ${reason(error)}`);
    } finally {
      await fs.rm(fixtureDir, { recursive: true, force: true });
    }
    for (const extra of EXTRA_ROWS) {
      lines.push(`  -- ${extra.name} --`);
      try {
        const rows = await extra.run(options);
        lines.push(...rows.lines);
        goals.push(...rows.goals);
      } catch (error) {
        lines.push(`  failed: ${reason(error)}`);
      }
    }
    lines.push(...goals.map(formatGoal));
    return { title: 'generation (in-process SD-Turbo; other engines below)', lines, goals };
  },
};
