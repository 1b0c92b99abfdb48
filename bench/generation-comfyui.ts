/**
 * The ComfyUI engine's overhead per job: engine.generate() against the least a client must do for the same
 * workflow on the same fake server (POST /prompt, wait on the open socket for the prompt's end, GET
 * /history, GET /view). Both pay the fake's work; the difference is ours: template fill, queue checks,
 * progress relay, PNG checks. Goal: ≤ +20 ms per job. Run alone with `npx tsx bench/generation-comfyui.ts`.
 */
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { closeComfyUiClients, createComfyUiEngine } from '../src/vision/engines/comfyui-engine.ts';
import { WorkflowLibrary, fillWorkflow } from '../src/vision/engines/comfyui-workflows.ts';
import type { GenerationRequest } from '../src/vision/engines/engine.ts';
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
const GOAL_MS = 20;
const signed = (ms: number) => `${ms < 0 ? '−' : '+'}${formatMs(Math.abs(ms))}`;

/** The floor: a bare client on one socket, as short as the protocol allows. */
async function bareClient(url: string): Promise<{ run(): Promise<Buffer>; close(): void }> {
  const clientId = 'bench-bare';
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const waiting = new Map<string, () => void>();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(data.toString()) as { type: string; data: { node?: unknown; prompt_id?: string } };
    if (m.type === 'executing' && m.data.node === null && m.data.prompt_id) waiting.get(m.data.prompt_id)?.();
  });
  const template = new WorkflowLibrary(undefined).find('text-to-image', 'generate_image')!;
  return {
    async run() {
      const prompt = fillWorkflow(template, { prompt: REQUEST.prompt, seed: REQUEST.seed, steps: REQUEST.steps, width: REQUEST.width, height: REQUEST.height });
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
        { outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> }
      >;
      const image = Object.values(history[id]!.outputs)[0]!.images[0]!;
      const view = await fetch(`${url}/view?${new URLSearchParams(image)}`);
      return Buffer.from(await view.arrayBuffer());
    },
    close: () => ws.terminate(),
  };
}

export async function comfyUiGenerationRows(options: MeasureOptions): Promise<SectionReport> {
  const fake = await FakeComfyUi.start();
  const bare = await bareClient(fake.url);
  try {
    const engine = createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 60_000 });
    const signal = new AbortController().signal;
    const generate = () => engine.generate(REQUEST, { signal, progress: () => undefined, preview: () => undefined });
    const [floor, ours] = await measureInterleaved(
      [
        { label: 'floor: POST /prompt + socket + /history + /view', fn: bare.run },
        { label: 'ComfyUI engine.generate', fn: generate },
      ],
      { warmup: options.warmup ?? 2, runs: Math.max(options.runs ?? 5, 10) },
    );
    const overhead = ours!.medianMs - floor!.medianMs;
    const overheadMin = ours!.minMs - floor!.minMs;
    const met = overhead <= GOAL_MS;
    const goals: Goal[] = [{ text: 'ComfyUI engine overhead per job (ms)', limit: GOAL_MS, actual: overhead }];
    return {
      title: 'generation: ComfyUI engine against the bare protocol (fake ComfyUI, 4 steps, 256²)',
      lines: [
        row(floor!.label, floor, '1.00× floor'),
        row(ours!.label, ours, `overhead ${signed(overhead)} (min ${signed(overheadMin)})`),
        `  goal: ComfyUI engine overhead ≤ +${GOAL_MS} ms per job: ${signed(overhead)} ${met ? 'MET' : 'NOT MET'}`,
      ],
      goals,
    };
  } finally {
    bare.close();
    closeComfyUiClients();
    await fake.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await comfyUiGenerationRows({ runs: Number(process.env.BENCH_RUNS ?? 10), warmup: Number(process.env.BENCH_WARMUP ?? 2) });
  console.log(`== ${report.title} ==`);
  for (const line of report.lines) console.log(line);
}
