import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { JOB_DURATION_BUCKETS, Metrics } from '../../src/metrics/metrics.ts';
import { metricsRoute } from '../../src/metrics/metrics-route.ts';
import { taskLabel } from '../../src/metrics/job-tracker.ts';
import { family, typeOf, sampleValue } from './exposition.ts';

describe('Metrics', () => {
  it('exports what a worker declared as labels of an info gauge', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setWorkerInfo({ tasks: ['ocr', 'cutout'], executionProvider: 'cuda', concurrency: 2, memoryBudgetMb: 8192 });
    metrics.setWorkerInfo({ tasks: ['ocr', 'cutout'], executionProvider: 'cuda', concurrency: 4, memoryBudgetMb: 8192 });
    const text = (await metrics.scrape()).body;
    expect(family(text, 'vitron_worker_info')).toEqual({
      'tasks=cutout,ocr,execution_provider=cuda,concurrency=4,memory_budget_mb=8192': 1,
    });
  });

  it('names a worker that runs every task "all"', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.setWorkerInfo({ executionProvider: 'cpu', concurrency: 1, memoryBudgetMb: 0 });
    expect(
      sampleValue((await metrics.scrape()).body, 'vitron_worker_info', { tasks: 'all', execution_provider: 'cpu', concurrency: '1', memory_budget_mb: '0' }),
    ).toBe(1);
  });

  it('reads queue depth from every source at scrape time, and survives a source that fails', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    let waiting = 3;
    metrics.addQueueDepthSource(() => [
      { lane: 'image', state: 'waiting', count: waiting },
      { lane: 'image', state: 'active', count: 1 },
    ]);
    const remove = metrics.addQueueDepthSource(async () => {
      throw new Error('Redis is restarting');
    });
    let text = (await metrics.scrape()).body;
    expect(family(text, 'vitron_queue_jobs')).toEqual({ 'lane=image,state=waiting': 3, 'lane=image,state=active': 1 });
    expect(sampleValue(text, 'vitron_queue_depth_errors_total')).toBe(1);

    waiting = 0;
    remove();
    text = (await metrics.scrape()).body;
    expect(sampleValue(text, 'vitron_queue_jobs', { lane: 'image', state: 'waiting' })).toBe(0);
    expect(sampleValue(text, 'vitron_queue_depth_errors_total')).toBe(1);
  });

  it('keeps its own registry: two instances never share values, and the global registry stays empty', async () => {
    const a = new Metrics({ defaultMetrics: false });
    const b = new Metrics({ defaultMetrics: false });
    a.jobs.started('j1', 'cutout');
    a.jobs.succeeded('j1');
    expect(sampleValue((await a.scrape()).body, 'vitron_job_outcomes_total', { task: 'cutout', outcome: 'succeeded' })).toBe(1);
    expect(family((await b.scrape()).body, 'vitron_job_outcomes_total')).toEqual({});
    expect(globalRegistry.getSingleMetric('vitron_job_outcomes_total')).toBeUndefined();
  });

  it('includes the process and Node.js metrics unless turned off', async () => {
    const withDefaults = (await new Metrics().scrape()).body;
    expect(typeOf(withDefaults, 'process_cpu_user_seconds_total')).toBe('counter');
    expect(sampleValue(withDefaults, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(typeOf(withDefaults, 'nodejs_eventloop_lag_seconds')).toBe('gauge');
    const without = (await new Metrics({ defaultMetrics: false }).scrape()).body;
    expect(typeOf(without, 'process_cpu_user_seconds_total')).toBeUndefined();
  });

  it('uses buckets from 50 ms to 10 min', async () => {
    expect(JOB_DURATION_BUCKETS[0]).toBe(0.05);
    expect(JOB_DURATION_BUCKETS.at(-1)).toBe(600);
    const metrics = new Metrics({ defaultMetrics: false, now: () => 0 });
    metrics.jobs.started('j', 'ocr');
    metrics.jobs.succeeded('j');
    const text = (await metrics.scrape()).body;
    const les = Object.keys(family(text, 'vitron_job_duration_seconds_bucket')).map((k) => /le=([^,]+)/.exec(k)![1]);
    expect(les).toEqual([...JOB_DURATION_BUCKETS.map(String), '+Inf']);
  });

  it('labels tasks from a payload: a chain in order, nothing as "unknown"', () => {
    const step = (task: 'cutout' | 'adjust') => ({ task, targets: [], args: {}, invocation: { task, targets: [], args: {} } });
    expect(taskLabel({ steps: [step('cutout')] })).toBe('cutout');
    expect(taskLabel({ steps: [step('cutout'), step('adjust'), step('cutout')] })).toBe('cutout+adjust');
    expect(taskLabel({ steps: [] })).toBe('unknown');
    expect(taskLabel(undefined)).toBe('unknown');
  });

  it('gives the web adapter a route answering the exposition text and its content type', async () => {
    const metrics = new Metrics({ defaultMetrics: false });
    metrics.jobs.started('j', 'trim');
    metrics.jobs.failed('j', 'WORKER_CRASHED');
    const { contentType, body } = await metricsRoute(metrics)();
    expect(contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(sampleValue(body, 'vitron_job_failures_total', { task: 'trim', code: 'WORKER_CRASHED' })).toBe(1);
  });
});
