import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Metrics } from '../../src/metrics/metrics.ts';
import { startMetricsServer, type MetricsServer, type MetricsServerOptions } from '../../src/metrics/metrics-server.ts';
import { sampleValue } from './exposition.ts';

describe('metrics server', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(options: Partial<MetricsServerOptions> = {}) {
    const metrics = options.metrics ?? new Metrics({ defaultMetrics: false });
    server = await startMetricsServer({ metrics, host: '127.0.0.1', port: 0, ...options });
    return { metrics, server };
  }

  it('answers GET /metrics with the exposition text and the Prometheus content type', async () => {
    const { metrics, server } = await start();
    metrics.jobs.started('a', 'cutout');
    metrics.jobs.succeeded('a');
    metrics.jobs.started('b', 'cutout');
    metrics.jobs.failed('b', 'WORKER_CRASHED');
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await response.text();
    expect(sampleValue(text, 'vitron_job_outcomes_total', { task: 'cutout', outcome: 'succeeded' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_outcomes_total', { task: 'cutout', outcome: 'failed' })).toBe(1);
    expect(sampleValue(text, 'vitron_job_duration_seconds_count', { task: 'cutout' })).toBe(2);
    expect(sampleValue(text, 'vitron_jobs_running')).toBeUndefined();
  });

  it('serves the default process metrics too', async () => {
    const { server } = await start({ metrics: new Metrics() });
    const text = await (await fetch(`${server.url}/metrics?from=prometheus`)).text();
    expect(sampleValue(text, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
  });

  it('answers /healthz 200 with {ok:true} when no check is given', async () => {
    const { server } = await start();
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual({ ok: true });
  });

  it('answers /healthz 503 with the report when the check says not ok', async () => {
    const { server } = await start({ health: async () => ({ ok: false, redis: 'unreachable' }) });
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ok: false, redis: 'unreachable' });
  });

  it('answers /healthz 503 when the check throws or hangs', async () => {
    const { server } = await start({
      health: async () => {
        throw new Error('store down');
      },
    });
    let response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ok: false, error: 'store down' });

    await server.close();
    const hanging = await start({ health: () => new Promise(() => {}), healthTimeoutMs: 20 });
    response = await fetch(`${hanging.server.url}/healthz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ ok: false, error: 'the health check did not answer within 20 ms' });
  });

  it('answers 404 elsewhere and 405 to other methods', async () => {
    const { server } = await start();
    for (const path of ['/', '/metrics/x', '/api/conversations']) {
      const response = await fetch(`${server.url}${path}`);
      expect(response.status).toBe(404);
      await response.text();
    }
    const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    await post.text();
  });

  it('closes promptly although a scraper keeps its connection open, and closing twice is fine', async () => {
    const { server } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${server.url}/metrics`, { headers: { connection: 'keep-alive' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(200);
    await server.close();
    await expect(fetch(`${server.url}/metrics`)).rejects.toThrow();
    await server.close();
  });
});
