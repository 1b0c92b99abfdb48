import type http from 'node:http';
import sharp from 'sharp';
import { probeClip } from './clips.ts';
import { validatePrompt, type Prompt } from './nodes.ts';
import type { FakeComfyUi, Item, Json } from './server.ts';

/** The fake's HTTP routes, answering with the shapes of ComfyUI's server.py. */
export async function route(fake: FakeComfyUi, req: http.IncomingMessage, res: http.ServerResponse): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  const isJson = raw.length > 0 && !String(req.headers['content-type'] ?? '').startsWith('multipart/');
  let body: Json = {};
  if (isJson) {
    try {
      body = JSON.parse(raw.toString('utf8')) as Json;
    } catch {
      body = {};
    }
  }
  fake.requests.push({ method: req.method ?? 'GET', path: url.pathname, ...(isJson ? { body } : {}) });
  const json = (status: number, value: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  const key = `${req.method} ${url.pathname}`;
  if (key === 'POST /prompt') {
    const prompt = body.prompt as Prompt | undefined;
    if (prompt === undefined)
      return json(400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
    const valid = validatePrompt(prompt, { models: fake.models, inputs: new Set(fake.uploads.keys()) });
    if (!valid.ok) return json(400, { error: valid.error, node_errors: valid.node_errors });
    const item = fake.enqueue(prompt, { client_id: body.client_id as string | undefined }, valid.outputs);
    return json(200, { prompt_id: item.id, number: item.number, node_errors: {} });
  }
  if (key === 'POST /upload/image') {
    const form = await new Response(raw, { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
    const file = form.get('image');
    if (!(file instanceof File) || !file.name) return res.writeHead(400).end();
    const bytes = Buffer.from(await file.arrayBuffer());
    // server.py stores any file; LoadVideo then opens clips, LoadImage pictures.
    const meta = await sharp(bytes)
      .metadata()
      .catch(() => undefined);
    const clip = meta === undefined ? await probeClip(bytes) : undefined;
    if (clip !== undefined) fake.clips.set(file.name, clip);
    fake.uploads.set(file.name, { bytes, width: meta?.width ?? clip?.width ?? 0, height: meta?.height ?? clip?.height ?? 0 });
    return json(200, { name: file.name, subfolder: '', type: 'input' });
  }
  if (key === 'GET /queue') {
    const row = (i: Item) => [i.number, i.id, i.prompt, i.extra, i.outputs];
    return json(200, { queue_running: fake.running ? [row(fake.running)] : [], queue_pending: fake.sortedQueue().map(row) });
  }
  if (key === 'POST /queue') {
    for (const id of (body.delete as string[] | undefined) ?? []) {
      if (!fake.queue.some((i) => i.id === id)) continue;
      fake.queue = fake.queue.filter((i) => i.id !== id);
      fake.deleted.push(id);
    }
    if (body.clear === true) fake.queue = [];
    fake.send('status', { status: fake.queueInfo() });
    return res.writeHead(200).end();
  }
  if (key === 'POST /interrupt') {
    const target = typeof body.prompt_id === 'string' && !fake.legacyInterrupt ? body.prompt_id : undefined;
    const hit = fake.running !== undefined && (target === undefined || fake.running.id === target) ? fake.running.id : undefined;
    if (hit !== undefined) fake.interruptFlag = true;
    fake.interrupts.push({ body, interrupted: hit });
    return res.writeHead(200).end();
  }
  if (req.method === 'GET' && url.pathname.startsWith('/history/')) {
    const id = decodeURIComponent(url.pathname.slice('/history/'.length));
    const entry = fake.history.get(id);
    return json(200, entry === undefined ? {} : { [id]: entry });
  }
  if (key === 'GET /view') {
    const q = url.searchParams;
    const type = q.get('type') ?? 'output';
    const bytes =
      type === 'input' ? fake.uploads.get(q.get('filename') ?? '')?.bytes : fake.files.get(`${type}/${q.get('subfolder') ?? ''}/${q.get('filename')}`);
    if (bytes === undefined) return res.writeHead(404).end();
    return res.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
  }
  res.writeHead(404).end();
}
