import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { type WebSocket, WebSocketServer } from 'ws';
import { type Prompt, executionOrder } from './nodes.ts';
import { type ClipFacts, isClipSaver, planClip, renderClip } from './clips.ts';
import { planRender, previewFrame, solidPng } from './render.ts';
import { route } from './routes.ts';

/**
 * A fake ComfyUI speaking the real routes and socket messages of server.py / execution.py / main.py:
 * /prompt, /upload/image, /history/{id}, /view, /queue (GET, delete), /interrupt ({prompt_id} as newer
 * servers, or global with `legacyInterrupt`), /ws with status, execution_start, execution_cached, executing,
 * progress, binary previews, executed, execution_success / execution_error / execution_interrupted.
 * Failure switches: a node error at run time, a restart mid-job, dropped sockets, slow steps, other clients'
 * prompts in the queue.
 */

export const FAKE_MODELS = [
  'sd_xl_turbo_1.0_fp16.safetensors',
  'flux1-dev-kontext_fp8_scaled.safetensors',
  'clip_l.safetensors',
  't5xxl_fp8_e4m3fn_scaled.safetensors',
  'ae.safetensors',
  'wan2.2_ti2v_5B_fp16.safetensors',
  'umt5_xxl_fp8_e4m3fn_scaled.safetensors',
  'wan2.2_vae.safetensors',
  'svd_xt.safetensors',
];

export interface Item {
  number: number;
  id: string;
  prompt: Prompt;
  extra: { client_id?: string };
  outputs: string[];
}

export type Json = Record<string, unknown>;
const EXECUTION_EVENTS = new Set(['execution_start', 'execution_cached', 'execution_success', 'execution_error', 'execution_interrupted']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class FakeComfyUi {
  // Switches, set by tests between or during jobs.
  stepDelayMs = 1;
  failAt: { classType: string; message: string } | undefined;
  restartAtStep: { step: number; downMs: number } | undefined;
  dropSocketsAtStep: number | undefined;
  /** Old servers ignore {prompt_id} on /interrupt and stop whatever runs. */
  legacyInterrupt = false;
  readonly models = new Set(FAKE_MODELS);

  // What happened, for assertions.
  readonly requests: { method: string; path: string; body?: unknown }[] = [];
  readonly interrupts: { body: unknown; interrupted: string | undefined }[] = [];
  readonly deleted: string[] = [];
  readonly uploads = new Map<string, { bytes: Buffer; width: number; height: number }>();
  /** Uploaded clips, probed with ffprobe. */
  readonly clips = new Map<string, ClipFacts>();
  readonly accepted = new Map<string, { prompt: Prompt; clientId: string | undefined }>();
  restarts = 0;

  // Internal state, read and changed by routes.ts as ComfyUI's route handlers do.
  queue: Item[] = [];
  running: Item | undefined;
  private lastNode: string | undefined;
  readonly history = new Map<string, Json>();
  readonly files = new Map<string, Buffer>();
  private counter = 0;
  private number = 0;
  interruptFlag = false;
  private epoch = 0;
  private readonly sockets = new Map<string, WebSocket>();
  private readonly server = http.createServer((req, res) => void route(this, req, res).catch((error: Error) => res.writeHead(500).end(error.message)));
  private readonly wss = new WebSocketServer({ noServer: true });

  private constructor(public port: number) {
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (url.pathname !== '/ws') return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, url.searchParams.get('clientId') || randomUUID().replaceAll('-', '')));
    });
  }

  static async start(port = 0): Promise<FakeComfyUi> {
    const fake = new FakeComfyUi(port);
    await fake.listen();
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.epoch += 1;
    for (const ws of this.wss.clients) ws.terminate();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  /** Terminates every socket; the server and its queue go on (a network blip, a proxy timeout). */
  dropSockets(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  /** Like a ComfyUI restart: sockets drop, the port refuses for `downMs`, queue and history are forgotten. */
  async restart(downMs: number): Promise<void> {
    this.restarts += 1;
    this.epoch += 1;
    this.queue = [];
    this.running = undefined;
    this.history.clear();
    await this.close();
    await sleep(downMs);
    await this.listen();
  }

  /** Queues a prompt of another client (not validated), returning its id. */
  queueForeign(steps: number, clientId = 'someone-else'): string {
    const prompt: Prompt = {
      '1': { class_type: 'KSampler', inputs: { seed: 1, steps } },
      '2': { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'other' } },
    };
    return this.enqueue(prompt, { client_id: clientId }, ['2']).id;
  }

  /** Ids in the queue now, running first. */
  queued(): { running: string | undefined; pending: string[] } {
    return { running: this.running?.id, pending: this.sortedQueue().map((i) => i.id) };
  }

  private listen(): Promise<void> {
    return new Promise((resolve) =>
      this.server.listen(this.port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      }),
    );
  }

  private connected(ws: WebSocket, sid: string): void {
    this.sockets.set(sid, ws);
    ws.on('close', () => {
      if (this.sockets.get(sid) === ws) this.sockets.delete(sid);
    });
    this.send('status', { status: this.queueInfo(), sid }, sid);
    if (this.running?.extra.client_id === sid && this.lastNode !== undefined) this.send('executing', { node: this.lastNode }, sid);
  }

  send(type: string, data: Json, sid?: string): void {
    const text = JSON.stringify({ type, data });
    if (sid === undefined) for (const ws of this.sockets.values()) ws.send(text);
    else this.sockets.get(sid)?.send(text);
  }

  queueInfo(): Json {
    return { exec_info: { queue_remaining: this.queue.length + (this.running ? 1 : 0) } };
  }

  sortedQueue(): Item[] {
    return [...this.queue].sort((a, b) => a.number - b.number);
  }

  enqueue(prompt: Prompt, extra: Item['extra'], outputs: string[]): Item {
    const item = { number: this.number++, id: randomUUID(), prompt, extra, outputs };
    this.queue.push(item);
    this.accepted.set(item.id, { prompt, clientId: extra.client_id });
    this.send('status', { status: this.queueInfo() });
    setImmediate(() => this.next());
    return item;
  }

  private next(): void {
    if (this.running !== undefined || this.queue.length === 0) return;
    const item = this.sortedQueue()[0]!;
    this.queue = this.queue.filter((i) => i !== item);
    this.running = item;
    this.interruptFlag = false;
    this.send('status', { status: this.queueInfo() });
    void this.execute(item).then(() => this.next());
  }

  /** main.py's prompt_worker + execution.py's execute, with the fake model of render.ts. */
  private async execute(item: Item): Promise<void> {
    const epoch = this.epoch;
    const sid = item.extra.client_id;
    const messages: [string, Json][] = [];
    const emit = (type: string, data: Json) => {
      if (EXECUTION_EVENTS.has(type)) messages.push([type, data]);
      this.send(type, data, sid);
    };
    const prompt_id = item.id;
    emit('execution_start', { prompt_id, timestamp: Date.now() });
    emit('execution_cached', { nodes: [], prompt_id, timestamp: Date.now() });
    const plan = planRender(item.prompt, this.uploads);
    const preview = previewFrame(await solidPng(8, 8, plan.rgb));
    const ui: Record<string, Json> = {};
    const executed: string[] = [];
    let outcome: 'success' | 'error' | 'interrupted' = 'success';
    for (const nodeId of executionOrder(item.prompt, item.outputs)) {
      const node_type = String(item.prompt[nodeId]!.class_type);
      this.lastNode = nodeId;
      this.send('executing', { node: nodeId, display_node: nodeId, prompt_id }, sid);
      if (this.failAt?.classType === node_type) {
        emit('execution_error', {
          prompt_id,
          node_id: nodeId,
          node_type,
          executed,
          exception_message: this.failAt.message,
          exception_type: 'RuntimeError',
          traceback: [],
          current_inputs: {},
          current_outputs: {},
        });
        outcome = 'error';
        break;
      }
      if (node_type === 'KSampler') {
        for (let step = 1; step <= plan.steps && !this.interruptFlag; step++) {
          await sleep(this.stepDelayMs);
          if (epoch !== this.epoch) return;
          if (this.interruptFlag) break;
          this.send('progress', { value: step, max: plan.steps, prompt_id, node: nodeId }, sid);
          if (sid !== undefined) this.sockets.get(sid)?.send(preview);
          if (this.dropSocketsAtStep === step) {
            this.dropSocketsAtStep = undefined;
            this.dropSockets();
          }
          if (this.restartAtStep?.step === step) {
            const { downMs } = this.restartAtStep;
            this.restartAtStep = undefined;
            void this.restart(downMs);
            return;
          }
        }
      }
      if (this.interruptFlag) {
        emit('execution_interrupted', { prompt_id, node_id: nodeId, node_type, executed });
        outcome = 'interrupted';
        break;
      }
      if (node_type === 'SaveImage') ui[nodeId] = await this.save(String(item.prompt[nodeId]!.inputs?.filename_prefix ?? 'ComfyUI'), plan);
      if (isClipSaver(node_type)) ui[nodeId] = await this.saveClip(item.prompt, nodeId, plan);
      if (ui[nodeId] !== undefined) emit('executed', { node: nodeId, display_node: nodeId, output: ui[nodeId]!, prompt_id });
      executed.push(nodeId);
    }
    if (outcome === 'success') emit('execution_success', { prompt_id, timestamp: Date.now() });
    // The real worker writes the history after execution_success went out: clients must not assume it is there.
    await sleep(1);
    if (epoch !== this.epoch) return;
    this.history.set(prompt_id, {
      prompt: [item.number, prompt_id, item.prompt, item.extra, item.outputs],
      outputs: ui,
      status: { status_str: outcome === 'success' ? 'success' : 'error', completed: outcome === 'success', messages },
      meta: {},
    });
    this.running = undefined;
    this.lastNode = undefined;
    this.send('executing', { node: null, prompt_id }, sid);
    this.send('status', { status: this.queueInfo() });
  }

  /**
   * A real clip, as nodes_video.py / nodes_images.py / VHS report it: SaveVideo and SaveAnimatedWEBP under
   * `images` with `animated: [true]`; VHS_VideoCombine under `gifs` with its format and frame rate.
   */
  private async saveClip(prompt: Prompt, nodeId: string, plan: ReturnType<typeof planRender>): Promise<Json> {
    const clip = planClip(prompt, plan, this.clips)!;
    const inputs = prompt[nodeId]!.inputs ?? {};
    const prefix = String(inputs.filename_prefix ?? 'ComfyUI');
    const subfolder = path.posix.dirname(prefix) === '.' ? '' : path.posix.dirname(prefix);
    const filename = `${path.posix.basename(prefix)}_${String(++this.counter).padStart(5, '0')}_.${clip.container}`;
    this.files.set(`output/${subfolder}/${filename}`, await renderClip(clip, plan.rgb));
    const saved = { filename, subfolder, type: 'output' };
    if (prompt[nodeId]!.class_type === 'VHS_VideoCombine')
      return { gifs: [{ ...saved, format: String(inputs.format), frame_rate: clip.fps, workflow: `${filename}.png`, fullpath: `/output/${filename}` }] };
    return { images: [saved], animated: [true] };
  }

  private async save(prefix: string, plan: ReturnType<typeof planRender>): Promise<Json> {
    const subfolder = path.posix.dirname(prefix) === '.' ? '' : path.posix.dirname(prefix);
    const png = await solidPng(plan.width, plan.height, plan.rgb);
    const images = Array.from({ length: plan.count }, () => {
      const filename = `${path.posix.basename(prefix)}_${String(++this.counter).padStart(5, '0')}_.png`;
      this.files.set(`output/${subfolder}/${filename}`, png);
      return { filename, subfolder, type: 'output' };
    });
    return { images };
  }
}
