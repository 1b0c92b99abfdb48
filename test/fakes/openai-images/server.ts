/**
 * A local OpenAI Images API for tests: `POST /v1/images/generations` (JSON) and `POST /v1/images/edits`
 * (multipart: image or image[], mask, prompt, n, size, model…) over real HTTP, answering with the real
 * JSON (`{created, data: [{b64_json}], usage}`) and OpenAI's error bodies (`{error: {message, type, param,
 * code}}`). Its "model" is trivial: a PNG of the asked size whose colour comes from the prompt. It checks
 * what the real API checks that a client can get wrong (the model, the size list, n for dall-e-3,
 * response_format for GPT image models, a mask's size and alpha) and records every request, with edits
 * decoded, so tests can check what travelled. Switches make it fail the ways the real one does.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import sharp from 'sharp';

export interface ReceivedPicture {
  width: number;
  height: number;
  format: string;
  /** One byte per pixel: the alpha channel (255 everywhere when the file has none). */
  alpha: Buffer;
  bytes: Buffer;
}

export interface RecordedImagesRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** JSON body, or the multipart form's text fields. */
  fields: Record<string, string | number | boolean | null>;
  /** Edits: the image file(s) in the order sent, and the mask. */
  images: ReceivedPicture[];
  mask?: ReceivedPicture;
  /** The multipart field names of the files ("image", "image[]", "mask"). */
  fileFields: string[];
  closedEarly: boolean;
}

export type FakeImagesMode =
  | 'ok'
  /** 400 moderation_blocked, as gpt-image models refuse. */
  | 'moderation'
  /** 400 content_policy_violation, as DALL·E refuses. */
  | 'content-policy'
  /** 429 rate_limit_exceeded with retry-after. */
  | 'rate-limit'
  /** 429 insufficient_quota: the account is out of credit. */
  | 'quota'
  | 'error-500'
  /** Answer after `slowMs`, or never if the client hangs up first. */
  | 'slow'
  /** Answer with `url`s to GET /files/<name>.png instead of base64. */
  | 'url';

export interface FakeImagesServerOptions {
  port: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` or get OpenAI's 401, which echoes what was sent. */
  apiKey?: string;
  models?: string[];
}

export interface FakeImagesServer {
  /** Base URL as IMAGES_API_URL expects it: http://127.0.0.1:<port>/v1 */
  url: string;
  requests: RecordedImagesRequest[];
  mode: FakeImagesMode;
  slowMs: number;
  /** GETs of result URLs served (mode 'url'). */
  fileFetches: number;
  /** Resolves when a request was given up by its client. */
  nextClosedEarly(): Promise<RecordedImagesRequest>;
  close(): Promise<void>;
}

const FIXED_SIZES: Record<string, string[]> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
};

/** The colour the fake "model" paints for a prompt: tests compare it to tell which prompt made a picture. */
export function colourOf(prompt: string): { r: number; g: number; b: number } {
  const hash = createHash('sha256').update(prompt).digest();
  return { r: hash[0]!, g: hash[1]!, b: hash[2]! };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function apiError(
  res: ServerResponse,
  status: number,
  message: string,
  type: string,
  code: string | null,
  param: string | null = null,
  headers: Record<string, string> = {},
): void {
  send(res, status, { error: { message, type, param, code } }, headers);
}

async function picture(bytes: Buffer): Promise<ReceivedPicture> {
  const meta = await sharp(bytes).metadata();
  const alpha = meta.hasAlpha ? await sharp(bytes).ensureAlpha().extractChannel(3).raw().toBuffer() : Buffer.alloc((meta.width ?? 0) * (meta.height ?? 0), 255);
  return { width: meta.width ?? 0, height: meta.height ?? 0, format: meta.format ?? '?', alpha, bytes };
}

/** Reads either body the API takes: JSON for generations, multipart for edits (parsed by undici's FormData). */
async function readBody(req: IncomingMessage, record: RecordedImagesRequest): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    record.fields = JSON.parse(raw.toString('utf8'));
    return;
  }
  if (!type.startsWith('multipart/form-data')) return;
  const form = await new Request('http://fake/', { method: 'POST', headers: { 'content-type': type }, body: raw }).formData();
  // forEach, not entries(): the project's lib has DOM but not DOM.Iterable; files are decoded after, in order.
  const entries: [string, FormDataEntryValue][] = [];
  form.forEach((value, name) => {
    entries.push([name, value]);
  });
  for (const [name, value] of entries) {
    if (typeof value === 'string') {
      record.fields[name] = value;
      continue;
    }
    record.fileFields.push(name);
    const decoded = await picture(Buffer.from(await value.arrayBuffer()));
    if (name === 'mask') record.mask = decoded;
    else if (name === 'image' || name === 'image[]') record.images.push(decoded);
  }
}

export async function startFakeImagesServer(options: FakeImagesServerOptions): Promise<FakeImagesServer> {
  const models = options.models ?? ['gpt-image-1', 'dall-e-3', 'dall-e-2', 'gpt-image-2'];
  const files = new Map<string, Buffer>();
  const closeWaiters: ((r: RecordedImagesRequest) => void)[] = [];
  const fake: FakeImagesServer = {
    url: `http://127.0.0.1:${options.port}/v1`,
    requests: [],
    mode: 'ok',
    slowMs: 60_000,
    fileFetches: 0,
    nextClosedEarly: () => new Promise((resolve) => closeWaiters.push(resolve)),
    close: async () => {},
  };

  /** What the real API would refuse about this request, as [param, message]; undefined when it is fine. */
  function invalid(record: RecordedImagesRequest, edit: boolean): [string, string] | undefined {
    const { model, prompt, n, size, response_format: format } = record.fields;
    const name = String(model ?? 'dall-e-2');
    if (typeof prompt !== 'string' || prompt === '') return ['prompt', "Missing required parameter: 'prompt'."];
    const count = Number(n ?? 1);
    if (!Number.isInteger(count) || count < 1 || count > 10) return ['n', `Invalid value for 'n': ${n}.`];
    if (name === 'dall-e-3' && count !== 1) return ['n', "Invalid 'n': dall-e-3 only supports n=1."];
    if (name.startsWith('gpt-image') && format != null) return ['response_format', "Unknown parameter: 'response_format'."];
    const sizes = FIXED_SIZES[name];
    if (size != null && sizes && !sizes.includes(String(size)))
      return ['size', `Invalid value: '${size}'. Supported values are: ${sizes.map((s) => `'${s}'`).join(', ')}.`];
    if (size != null && !sizes && !/^\d+x\d+$/.test(String(size))) return ['size', `Invalid size '${size}'.`];
    if (!edit) return undefined;
    if (name === 'dall-e-3') return ['model', 'Invalid model dall-e-3: image edits are not supported.'];
    const first = record.images[0];
    if (!first) return ['image', "Missing required parameter: 'image'."];
    const mask = record.mask;
    if (mask && (mask.format !== 'png' || mask.width !== first.width || mask.height !== first.height)) {
      return [
        'mask',
        `Invalid mask image: it must be a PNG the size of the image (${first.width}x${first.height}), got ${mask.format} ${mask.width}x${mask.height}.`,
      ];
    }
    if (mask && !mask.alpha.includes(0)) return ['mask', 'Invalid mask image: it has no transparent pixels, so nothing would be edited.'];
    return undefined;
  }

  async function answer(res: ServerResponse, record: RecordedImagesRequest): Promise<void> {
    const { prompt, size } = record.fields;
    const count = Number(record.fields.n ?? 1);
    const [width, height] = size == null || size === 'auto' ? [1024, 1024] : String(size).split('x').map(Number);
    const png = await sharp({ create: { width: width!, height: height!, channels: 3, background: colourOf(String(prompt)) } })
      .png()
      .toBuffer();
    const data = Array.from({ length: count }, (_, i) => {
      if (fake.mode !== 'url') return { b64_json: png.toString('base64') };
      const name = `${Date.now()}-${fake.requests.length}-${i}.png`;
      files.set(name, png);
      return { url: `http://127.0.0.1:${options.port}/files/${name}` };
    });
    const usage = {
      total_tokens: 100 + count * 272,
      input_tokens: 100,
      output_tokens: count * 272,
      input_tokens_details: { text_tokens: 100, image_tokens: 0 },
    };
    send(res, 200, { created: Math.floor(Date.now() / 1000), data, usage });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path.startsWith('/files/')) {
      fake.fileFetches += 1;
      const file = files.get(path.slice('/files/'.length));
      if (!file) return apiError(res, 404, 'No such file.', 'invalid_request_error', null);
      res.writeHead(200, { 'content-type': 'image/png' });
      return void res.end(file);
    }
    const record: RecordedImagesRequest = {
      method: req.method ?? 'GET',
      path,
      headers: req.headers,
      fields: {},
      images: [],
      fileFields: [],
      closedEarly: false,
    };
    fake.requests.push(record);
    res.on('close', () => {
      if (res.writableFinished) return;
      record.closedEarly = true;
      for (const w of closeWaiters.splice(0)) w(record);
    });
    await readBody(req, record);

    if (options.apiKey !== undefined && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      // OpenAI quotes (part of) the key it was given; this fake quotes all of it, the worse case for a client.
      return apiError(
        res,
        401,
        `Incorrect API key provided: ${req.headers.authorization?.replace(/^Bearer /, '') ?? '(none)'}.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    }
    const edit = path === '/v1/images/edits';
    if (req.method !== 'POST' || (path !== '/v1/images/generations' && !edit)) {
      return apiError(res, 404, `Invalid URL (${req.method} ${path})`, 'invalid_request_error', null);
    }
    const model = String(record.fields.model ?? 'dall-e-2');
    if (!models.includes(model)) {
      return apiError(res, 404, `The model \`${model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    }
    const problem = invalid(record, edit);
    if (problem) return apiError(res, 400, problem[1], 'invalid_request_error', null, problem[0]);

    switch (fake.mode) {
      case 'moderation':
        return apiError(
          res,
          400,
          'Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_fake.',
          'image_generation_user_error',
          'moderation_blocked',
        );
      case 'content-policy':
        return apiError(
          res,
          400,
          'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
          'invalid_request_error',
          'content_policy_violation',
        );
      case 'rate-limit':
        return apiError(
          res,
          429,
          `Rate limit reached for ${model} in organization org-fake on images per minute (IPM): Limit 5, Used 5, Requested 1.`,
          'requests',
          'rate_limit_exceeded',
          null,
          { 'retry-after': '20' },
        );
      case 'quota':
        return apiError(res, 429, 'You exceeded your current quota, please check your plan and billing details.', 'insufficient_quota', 'insufficient_quota');
      case 'error-500':
        return apiError(res, 500, 'The server had an error while processing your request. Sorry about that!', 'server_error', null);
      case 'slow': {
        const timer = setTimeout(() => void answer(res, record), fake.slowMs);
        res.on('close', () => clearTimeout(timer));
        return;
      }
      case 'ok':
      case 'url':
        return answer(res, record);
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) apiError(res, 400, `fake server: ${error instanceof Error ? error.message : String(error)}`, 'invalid_request_error', null);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', resolve);
  });
  fake.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return fake;
}
