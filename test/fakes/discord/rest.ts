/**
 * The fake's HTTP side: the CDN that serves attachment bytes, then every REST call below /api/v<n> —
 * parsed, answered with the fault a test asked for (a 429, a failure, a failure after the write), else
 * routed (rest-routes.ts) — and recorded with the status it got.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FakeDiscord } from './fake-discord.ts';
import { type Reply, route } from './rest-routes.ts';
import type { RecordedCall } from './shapes.ts';

export async function handleHttp(fake: FakeDiscord, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://x');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);

  if (url.pathname.startsWith('/cdn/attachments/')) return serveAttachment(fake, url.pathname, res);

  const path = decodeURIComponent(url.pathname).replace(/^\/api\/v\d+/, '');
  if (raw.length > fake.requestLimit) {
    // Discord refuses the whole request, message and files alike; nothing is parsed or stored.
    fake.record({ method: req.method ?? 'GET', path, query: url.searchParams, body: undefined, files: [], status: 413 });
    res.writeHead(413, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ message: 'Request entity too large', code: 40005 }));
  }
  const { body, files } = await parseBody(req, raw);
  const call: RecordedCall = { method: req.method ?? 'GET', path, query: url.searchParams, body, files, status: 200 };

  const late = fake.lateFailures.findIndex((r) => r.method === call.method && r.path.test(path));
  const lateStatus = late >= 0 ? fake.lateFailures.splice(late, 1)[0]!.status : undefined;
  const json: Reply['json'] = (given, payload, headers = {}) => {
    const status = lateStatus ?? given;
    call.status = status;
    if (lateStatus !== undefined) {
      fake.record(call);
      res.writeHead(status, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ message: 'Fake failure after the write', code: 0 }));
    }
    fake.record(call);
    if (status === 204) return void res.writeHead(204, headers).end();
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(payload));
  };

  const limit = fake.rateLimits.findIndex((r) => r.method === call.method && r.path.test(path));
  if (limit >= 0) {
    const { retryAfter } = fake.rateLimits.splice(limit, 1)[0]!;
    return json(
      429,
      { message: 'You are being rate limited.', retry_after: retryAfter, global: false },
      {
        'retry-after': String(Math.ceil(retryAfter)),
        'x-ratelimit-limit': '5',
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset-after': String(retryAfter),
        'x-ratelimit-bucket': 'fake-bucket',
        'x-ratelimit-scope': 'user',
      },
    );
  }
  const failure = fake.failures.findIndex((r) => r.method === call.method && r.path.test(path));
  if (failure >= 0) {
    const { status } = fake.failures.splice(failure, 1)[0]!;
    return json(status, { message: 'Fake failure', code: 0 });
  }
  const ok: Reply['ok'] = (payload) =>
    json(200, payload, { 'x-ratelimit-limit': '5', 'x-ratelimit-remaining': '4', 'x-ratelimit-reset-after': '1', 'x-ratelimit-bucket': 'b' });
  route(fake, call, { json, ok });
}

/** The CDN is not the API: no faults, no recording, just the bytes (`chunked` without a content-length). */
function serveAttachment(fake: FakeDiscord, pathname: string, res: ServerResponse): void {
  const id = pathname.split('/')[3]!;
  const upload = fake.uploads.get(id);
  if (!upload) return void res.writeHead(404).end();
  if (upload.chunked) {
    res.writeHead(200, { 'content-type': upload.contentType });
    for (let at = 0; at < upload.bytes.length; at += 1024) res.write(upload.bytes.subarray(at, at + 1024));
    return void res.end();
  }
  res.writeHead(200, { 'content-type': upload.contentType, 'content-length': upload.bytes.length });
  res.end(upload.bytes);
}

async function parseBody(req: IncomingMessage, raw: Buffer): Promise<{ body: any; files: RecordedCall['files'] }> {
  const type = req.headers['content-type'] ?? '';
  if (raw.length === 0) return { body: undefined, files: [] };
  if (type.startsWith('multipart/form-data')) {
    const form = await new Request('http://x', { method: 'POST', headers: { 'content-type': type }, body: new Uint8Array(raw) }).formData();
    const files: RecordedCall['files'] = [];
    let body: any;
    for (const [key, value] of form as unknown as Iterable<[string, string | File]>) {
      if (key === 'payload_json') body = JSON.parse(String(value));
      else if (typeof value !== 'string') files.push({ name: value.name, contentType: value.type, bytes: Buffer.from(await value.arrayBuffer()) });
    }
    return { body, files };
  }
  if (type.includes('json')) return { body: JSON.parse(raw.toString('utf8')), files: [] };
  return { body: raw.toString('utf8'), files: [] };
}
