/**
 * A fake Hugging Face hub for the model-pull tests: serves files by path with Range support, and can cut a
 * download half way, redirect to another host, ignore Range or refuse everything. Records every request.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  path: string;
  range?: string;
  authorization?: string;
}

export interface FakeHub {
  url: string;
  origin: string;
  seen: Seen[];
  files: Map<string, Buffer>;
  /** Paths whose next full-body response stops half way; the socket is cut once `cut` is called. */
  breakOnce: Map<string, { cut: () => void }>;
  /** Paths answered with a redirect to another server instead of the bytes. */
  redirects: Map<string, { to: string; linkedEtag?: string }>;
  /** Answer every request with the whole file, as servers without range support do. */
  ignoreRange: boolean;
  /** Answer every request with this status (a gated repository: 401). */
  status?: number;
  close(): Promise<void>;
}

const servers: http.Server[] = [];

/** Closes every hub the test started; each test file calls this after each test. */
export async function closeHubs(): Promise<void> {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
}

export async function startHub(): Promise<FakeHub> {
  const hub: Omit<FakeHub, 'url' | 'origin' | 'close'> = { seen: [], files: new Map(), breakOnce: new Map(), redirects: new Map(), ignoreRange: false };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hub.seen.push({ path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
    if (hub.status !== undefined) {
      res.writeHead(hub.status).end();
      return;
    }
    const redirect = hub.redirects.get(url.pathname);
    if (redirect !== undefined) {
      res.writeHead(302, { location: redirect.to, ...(redirect.linkedEtag ? { 'x-linked-etag': `"${redirect.linkedEtag}"` } : {}) });
      res.end();
      return;
    }
    const body = hub.files.get(url.pathname);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = hub.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    const broken = hub.breakOnce.get(url.pathname);
    if (broken !== undefined) {
      hub.breakOnce.delete(url.pathname);
      res.write(body.subarray(0, body.length / 2));
      // Cut only once the client has seen the first half, so that a resume has something to resume from.
      broken.cut = () => res.socket?.destroy();
      return;
    }
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The same object the handler reads, so that a test can flip ignoreRange or status afterwards.
  return Object.assign(hub, {
    url: origin,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
