/**
 * A local OpenAI-compatible vision chat server for tests: `POST /v1/chat/completions` and `GET /v1/models`
 * over real HTTP. It records every request and, by default, answers by looking at the images it received
 * (decoded from their data URLs with sharp: size and dominant colour), so a test proves the pictures really
 * travelled. Switches make it fail the ways real servers do: 500, slow, malformed JSON, unknown model,
 * wrong API key.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body (undefined for GET). */
  body: any;
  /** Set when the client hung up before the answer was sent (a cancelled or timed-out request). */
  closedEarly: boolean;
}

export interface SeenImage {
  width: number;
  height: number;
  format: string;
  dominant: { r: number; g: number; b: number };
  bytes: Buffer;
}

export type FakeMode =
  /** Answer from the images: "image 1: 256x256 jpeg, dominant rgb(…)". */
  | 'describe'
  | 'error-500'
  /** Wait `slowMs` before answering (or until the client hangs up). */
  | 'slow'
  /** 200 with a body that is not JSON. */
  | 'malformed-json'
  /** 200 with JSON that is not a chat completion. */
  | 'wrong-shape'
  /** 200 with an empty message. */
  | 'empty';

export interface FakeVisionServerOptions {
  /** The models GET /v1/models lists; any other model gets Ollama's 404. */
  models?: string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get a 401 that echoes what was sent. */
  apiKey?: string;
}

/**
 * One scripted answer to a structured-output request (the LLM planner's: it sends response_format): the content
 * to send, a function of the request body that returns it, or a stall of `slowMs` (a server past the timeout).
 */
export type PlanScript = string | ((body: any) => string) | { slowMs: number };

export interface FakeVisionServer {
  /**
   * Answers to requests with response_format, in order, one each; such a request with the list empty gets a 500
   * saying so, so a test notices a request it did not script.
   */
  plans: PlanScript[];
  /** When set, the answer to every structured-output request once `plans` is empty (benchmarks). */
  planAlways?: string;
  /** Base URL as LLM_URL expects it: http://127.0.0.1:<port>/v1 */
  url: string;
  requests: RecordedRequest[];
  mode: FakeMode;
  slowMs: number;
  /** Overrides the describing answer: gets the request body and the decoded images. */
  answer?: (body: any, images: SeenImage[]) => string;
  /** Resolves with the next chat request once its body has arrived. */
  nextChatRequest(): Promise<RecordedRequest>;
  /** Resolves when a chat request was given up by its client. */
  nextClosedEarly(): Promise<RecordedRequest>;
  close(): Promise<void>;
}

/** The images of a chat request, decoded from their data URLs, in the order they were sent. */
export async function imagesOf(body: any): Promise<SeenImage[]> {
  const content = body?.messages?.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [])) ?? [];
  const urls: string[] = content.filter((p: any) => p?.type === 'image_url').map((p: any) => String(p.image_url?.url ?? ''));
  return Promise.all(
    urls.map(async (url) => {
      const match = /^data:(image\/[a-z]+);base64,(.+)$/s.exec(url);
      if (!match) throw new Error(`not a base64 image data URL: ${url.slice(0, 40)}`);
      const bytes = Buffer.from(match[2]!, 'base64');
      const meta = await sharp(bytes).metadata();
      const { dominant } = await sharp(bytes).stats();
      return { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? '?', dominant, bytes };
    }),
  );
}

export function textOf(body: any): string {
  const content = body?.messages?.flatMap((m: any) => (Array.isArray(m.content) ? m.content : [{ type: 'text', text: m.content }])) ?? [];
  return content
    .filter((p: any) => p?.type === 'text')
    .map((p: any) => String(p.text))
    .join('\n');
}

function describe(images: SeenImage[]): string {
  return images
    .map((im, i) => `image ${i + 1}: ${im.width}x${im.height} ${im.format}, dominant rgb(${im.dominant.r},${im.dominant.g},${im.dominant.b})`)
    .join('; ');
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json' });
  res.end(text);
}

function completion(model: string, content: string | null, finishReason = 'stop'): unknown {
  return {
    id: `chatcmpl-${Math.random().toString(36).slice(2)}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

export async function startFakeVisionServer(options: FakeVisionServerOptions = {}): Promise<FakeVisionServer> {
  const models = options.models ?? ['qwen2.5vl:3b'];
  const chatWaiters: ((r: RecordedRequest) => void)[] = [];
  const closeWaiters: ((r: RecordedRequest) => void)[] = [];

  const fake: FakeVisionServer = {
    url: '',
    requests: [],
    plans: [],
    mode: 'describe',
    slowMs: 60_000,
    nextChatRequest: () => new Promise((resolve) => chatWaiters.push(resolve)),
    nextClosedEarly: () => new Promise((resolve) => closeWaiters.push(resolve)),
    close: async () => {},
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = (req.url ?? '/').split('?')[0]!;
    const record: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body: raw ? JSON.parse(raw) : undefined, closedEarly: false };
    fake.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) {
        record.closedEarly = true;
        for (const w of closeWaiters.splice(0)) w(record);
      }
    });

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // Like OpenAI's own 401: it quotes the key it was given, which a client must never pass on.
      return send(res, 401, { error: { message: `Incorrect API key provided: ${req.headers.authorization ?? '(none)'}`, type: 'invalid_request_error' } });
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return send(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', created: 0, owned_by: 'fake' })) });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') return send(res, 404, '404 page not found');

    for (const w of chatWaiters.splice(0)) w(record);
    const body = record.body;
    if (!models.includes(body?.model)) {
      return send(res, 404, { error: { message: `model "${body?.model}" not found, try pulling it first`, type: 'api_error', param: null, code: null } });
    }
    if (body?.response_format !== undefined) {
      const script = fake.plans.shift() ?? fake.planAlways;
      if (script === undefined) return send(res, 500, { error: { message: 'fake server: no scripted plan left for this request', type: 'api_error' } });
      if (typeof script === 'object') {
        const timer = setTimeout(() => send(res, 200, completion(body.model, '{"reply":"too late","invocations":[]}')), script.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      return send(res, 200, completion(body.model, typeof script === 'function' ? script(body) : script));
    }
    switch (fake.mode) {
      case 'error-500':
        return send(res, 500, { error: { message: 'llama runner process has terminated: signal: killed', type: 'api_error' } });
      case 'malformed-json':
        return send(res, 200, '{"id":"chatcmpl-1","choices":[{"message":');
      case 'wrong-shape':
        return send(res, 200, { id: 'x', object: 'chat.completion', result: 'no choices here' });
      case 'empty':
        return send(res, 200, completion(body.model, null));
      case 'slow': {
        const timer = setTimeout(() => send(res, 200, completion(body.model, 'finally')), fake.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'describe': {
        const images = await imagesOf(body);
        const text = fake.answer ? fake.answer(body, images) : describe(images);
        return send(res, 200, completion(body.model, text));
      }
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 400, { error: { message: `fake server: ${error instanceof Error ? error.message : String(error)}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake.url = `http://127.0.0.1:${port}/v1`;
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
