/**
 * The fake Slack's HTTP side: Web API calls under /api/ (answered with the 429 or error a test asked for,
 * else by web-api-methods.ts), upload URLs, private file downloads that need the bot token, and the
 * response_url. Every request is recorded with the status it got.
 */
import type http from 'node:http';
import type { FakeSlack } from './fake-slack.ts';
import { answerMethod } from './web-api-methods.ts';

export async function routeHttp(fake: FakeSlack, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', fake.url);
  const body = await readBody(req);
  if (url.pathname.startsWith('/api/')) return api(fake, url.pathname.slice(5), req, body, res);
  if (url.pathname.startsWith('/upload/') && req.method === 'POST') return upload(fake, url.pathname.slice(8), req, body, res);
  if (url.pathname.startsWith('/files-pri/') && req.method === 'GET') return download(fake, url.pathname, req, res);
  if (url.pathname === '/response-url' && req.method === 'POST') {
    fake.record({ method: 'response_url', args: parseArgs(req.headers['content-type'] ?? '', body), token: undefined, at: Date.now(), status: 200 });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  res.writeHead(404).end();
}

function api(fake: FakeSlack, method: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): void {
  const args = parseArgs(req.headers['content-type'] ?? '', body);
  const token = bearer(req.headers.authorization) ?? (typeof args.token === 'string' ? args.token : undefined);
  const limit = fake.rateLimits.get(method);
  if (limit && limit.times > 0) {
    limit.times -= 1;
    fake.record({ method, args, token, at: Date.now(), status: 429 });
    res
      .writeHead(429, { 'retry-after': String(limit.retryAfter), 'content-type': 'application/json' })
      .end(JSON.stringify({ ok: false, error: 'ratelimited' }));
    return;
  }
  const failure = fake.methodErrors.get(method);
  const answer = failure && failure.times-- > 0 ? { ok: false, error: failure.error } : answerMethod(fake, method, args, token);
  fake.record({ method, args, token, at: Date.now(), status: 200 });
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
}

async function upload(fake: FakeSlack, id: string, req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
  const upload = fake.uploads.get(id);
  const failing = fake.failingUploads > 0;
  if (failing) fake.failingUploads -= 1;
  fake.record({ method: 'upload', args: { id }, token: bearer(req.headers.authorization), at: Date.now(), status: failing ? 500 : 200 });
  if (!upload || failing) {
    res.writeHead(failing ? 500 : 404).end();
    return;
  }
  const type = req.headers['content-type'] ?? 'application/octet-stream';
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://upload/', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(body) }).formData();
    const part = form.get('body') ?? form.get('file');
    upload.bytes = part === null ? Buffer.alloc(0) : typeof part === 'string' ? Buffer.from(part) : Buffer.from(await part.arrayBuffer());
  } else {
    upload.bytes = body;
  }
  res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${upload.bytes.byteLength}`);
}

function download(fake: FakeSlack, pathname: string, req: http.IncomingMessage, res: http.ServerResponse): void {
  const match = /^\/files-pri\/[A-Z0-9]+-([A-Z0-9]+)\//.exec(pathname);
  const file = match ? fake.files.get(match[1]!) : undefined;
  fake.record({ method: 'download', args: { path: pathname }, token: bearer(req.headers.authorization), at: Date.now(), status: 200 });
  if (!file) {
    res.writeHead(404).end();
    return;
  }
  if (bearer(req.headers.authorization) !== fake.botToken) {
    // Slack answers an unauthenticated file request with its sign-in page, never the bytes.
    res.writeHead(302, { location: 'https://fake.slack.test/?redir=signin' }).end();
    return;
  }
  res.writeHead(200, { 'content-type': file.mimetype, 'content-length': String(file.bytes.byteLength) }).end(file.bytes);
}

function bearer(header: string | undefined): string | undefined {
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function parseArgs(contentType: string, body: Buffer): Record<string, unknown> {
  if (body.byteLength === 0) return {};
  if (contentType.includes('application/json')) return JSON.parse(body.toString('utf8')) as Record<string, unknown>;
  if (contentType.includes('application/x-www-form-urlencoded')) {
    const args: Record<string, unknown> = {};
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) args[key] = value;
    return args;
  }
  return {};
}
