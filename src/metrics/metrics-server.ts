import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Metrics } from './metrics.ts';

export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}

export interface MetricsServerOptions {
  metrics: Metrics;
  host: string;
  /** 0 picks a free port (see `port` on the result). */
  port: number;
  /** What GET /healthz reports; without it, a process that answers is healthy. */
  health?: () => Promise<HealthReport>;
  /** A health check that hangs (a Redis that does not answer) counts as unhealthy after this long. */
  healthTimeoutMs?: number;
}

export interface MetricsServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/**
 * GET /metrics and GET /healthz for a worker process, which has no web server of its own. Plain node:http
 * on purpose: two read-only routes do not need a framework, and a scrape must not depend on one.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const healthTimeoutMs = options.healthTimeoutMs ?? 5000;
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, 'text/plain; charset=utf-8', `${describe(error)}\n`);
      else response.destroy();
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const pathname = new URL(request.url ?? '/', 'http://metrics').pathname;
    if (pathname !== '/metrics' && pathname !== '/healthz') {
      send(response, 404, 'text/plain; charset=utf-8', 'Not found. Try /metrics or /healthz.\n');
      return;
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n');
      return;
    }
    if (pathname === '/metrics') {
      const { contentType, body } = await options.metrics.scrape();
      send(response, 200, contentType, body);
      return;
    }
    const report = await checkHealth(options.health, healthTimeoutMs);
    send(response, report.ok ? 200 : 503, 'application/json; charset=utf-8', `${JSON.stringify(report)}\n`);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    // Idempotent, so every shutdown path may call it.
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Prometheus keeps its connection open between scrapes; without this, shutdown waits for it.
        server.closeAllConnections();
      })),
  };
}

async function checkHealth(health: (() => Promise<HealthReport>) | undefined, timeoutMs: number): Promise<HealthReport> {
  if (!health) return { ok: true };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<HealthReport>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `the health check did not answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([health(), timeout]);
  } catch (error) {
    return { ok: false, error: describe(error) };
  } finally {
    clearTimeout(timer);
  }
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  response.end(body);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
