/**
 * The ComfyUI engine's overhead per job: engine.generate() (a picture) and engine.generateVideo() (a clip,
 * which the fake renders with ffmpeg) against the least a client must do for the same workflow on the same
 * fake server (POST /prompt, wait on the open socket for the prompt's end, GET /history, GET /view). Both
 * pay the fake's work; the difference is ours: template fill, queue checks, progress relay, output checks.
 * Goal: ≤ +20 ms per job, for either. Run alone with `npx tsx bench/generation-comfyui.ts`.
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { closeComfyUiClients, createComfyUiEngine } from '../src/vision/engines/comfyui-engine.ts';
import { WorkflowLibrary, fillWorkflow } from '../src/vision/engines/comfyui-workflows.ts';
import type { GenerationRequest, VideoRequest } from '../src/vision/engines/engine.ts';
import { FakeComfyUi } from '../test/fakes/comfyui/server.ts';
import { type Goal, type MeasureOptions, type SectionReport, formatMs, measureInterleaved, row } from './measure.ts';

const REQUEST: GenerationRequest = {
  operation: 'text-to-image',
  task: 'generate_image',
  prompt: 'a red fox in the snow',
  seed: 1,
  width: 256,
  height: 256,
  count: 1,
  steps: 4,
};
/** A short clip: the fake's ffmpeg render is paid by both sides, so a long one only adds noise. */
const VIDEO: VideoRequest = {
  operation: 'text-to-video',
  task: 'generate_video',
  prompt: 'fireworks over a lake',
  seed: 1,
  width: 256,
  height: 256,
  frames: 25,
  fps: 24,
  steps: 4,
};
const GOAL_MS = 20;
const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${formatMs(Math.abs(ms))}`;

type SavedFile = { filename: string; subfolder: string; type: string };

/** The floor: a bare client on one socket, as short as the protocol allows, for a picture or a clip. */
async function bareClient(url: string, kind: 'picture' | 'clip'): Promise<{ run(): Promise<Buffer>; close(): void }> {
  const clientId = `bench-bare-${kind}`;
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map<string, () => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(data.toString()) as { type: string; data: { node?: unknown; prompt_id?: string } };
    if (m.type === 'executing' && m.data.node === null && m.data.prompt_id) waiting.get(m.data.prompt_id)?.();
  });
  const library = new WorkflowLibrary(undefined);
  const template = kind === 'picture' ? library.find('text-to-image', 'generate_image')! : library.find('text-to-video', 'generate_video')!;
  const values =
    kind === 'picture'
      ? { prompt: REQUEST.prompt, seed: REQUEST.seed, steps: REQUEST.steps, width: REQUEST.width, height: REQUEST.height }
      : { prompt: VIDEO.prompt, seed: VIDEO.seed, steps: VIDEO.steps, width: VIDEO.width, height: VIDEO.height, frames: VIDEO.frames, fps: VIDEO.fps };
  return {
    async run() {
      const prompt = fillWorkflow(template, values);
      const posted = await fetch(`${url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt, client_id: clientId }),
      });
      const { prompt_id: id } = (await posted.json()) as { prompt_id: string };
      await new Promise<void>((resolve) => waiting.set(id, resolve));
      waiting.delete(id);
      const history = (await (await fetch(`${url}/history/${id}`)).json()) as Record<
        string,
        { outputs: Record<string, { images?: SavedFile[]; gifs?: SavedFile[] }> }
      >;
      const output = Object.values(history[id]!.outputs)[0]!;
      const saved = (output.images ?? output.gifs)![0]!;
      const view = await fetch(`${url}/view?${new URLSearchParams({ filename: saved.filename, subfolder: saved.subfolder, type: saved.type })}`);
      return Buffer.from(await view.arrayBuffer());
    },
    close: () => ws.terminate(),
  };
}

export async function comfyUiGenerationRows(options: MeasureOptions): Promise<SectionReport> {
  const fake = await FakeComfyUi.start();
  const bare = { picture: await bareClient(fake.url, 'picture'), clip: await bareClient(fake.url, 'clip') };
  try {
    const engine = createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 60_000 });
    const signal = new AbortController().signal;
    const callbacks = { signal, progress: () => undefined, preview: () => undefined };
    const repeat = { warmup: options.warmup ?? 2, runs: Math.max(options.runs ?? 5, 10) };
    const [floor, ours] = await measureInterleaved(
      [
        { label: 'floor: POST /prompt + socket + /history + /view', fn: bare.picture.run },
        { label: 'ComfyUI engine.generate', fn: () => engine.generate(REQUEST, callbacks) },
      ],
      repeat,
    );
    const [clipFloor, clipOurs] = await measureInterleaved(
      [
        { label: 'floor, a clip (text_to_video.json)', fn: bare.clip.run },
        { label: 'ComfyUI engine.generateVideo', fn: () => engine.generateVideo(VIDEO, callbacks) },
      ],
      repeat,
    );
    const overhead = ours!.medianMs - floor!.medianMs;
    const overheadMin = ours!.minMs - floor!.minMs;
    const clipOverhead = clipOurs!.medianMs - clipFloor!.medianMs;
    const clipOverheadMin = clipOurs!.minMs - clipFloor!.minMs;
    const verdict = (ms: number) => `${signed(ms)} ${ms <= GOAL_MS ? 'MET' : 'NOT MET'}`;
    const goals: Goal[] = [
      { text: 'ComfyUI engine overhead per job (ms)', limit: GOAL_MS, actual: overhead },
      { text: 'ComfyUI engine overhead per video job (ms)', limit: GOAL_MS, actual: clipOverhead },
    ];
    return {
      title: 'generation: ComfyUI engine against the bare protocol (fake ComfyUI; picture 4 steps 256², clip 25 frames 256²)',
      lines: [
        row(floor!.label, floor, '1.00× floor'),
        row(ours!.label, ours, `overhead ${signed(overhead)} (min ${signed(overheadMin)})`),
        row(clipFloor!.label, clipFloor, '1.00× floor'),
        row(clipOurs!.label, clipOurs, `overhead ${signed(clipOverhead)} (min ${signed(clipOverheadMin)})`),
        `  goal: ComfyUI engine overhead ≤ +${GOAL_MS} ms per job: picture ${verdict(overhead)}; clip ${verdict(clipOverhead)}`,
      ],
      goals,
    };
  } finally {
    bare.picture.close();
    bare.clip.close();
    closeComfyUiClients();
    await fake.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await comfyUiGenerationRows({ runs: Number(process.env.BENCH_RUNS ?? 10), warmup: Number(process.env.BENCH_WARMUP ?? 2) });
  console.log(`== ${report.title} ==`);
  for (const line of report.lines) console.log(line);
}
