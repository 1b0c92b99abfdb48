import { afterEach, expect, it } from 'vitest';
import { BadInputError } from '../../src/errors.ts';
import { Metrics } from '../../src/metrics/metrics.ts';
import { describeWithRedis } from './bullmq-redis.ts';
import { ended, eventually, runCleanups, setup, spec, startWorkers } from './bullmq-queue-rig.ts';

// Queues, workers and keys a test opened are closed and dropped after it, newest first.
afterEach(async () => {
  await runCleanups();
});

describeWithRedis('BullMQ job queue (real Redis)', () => {
  it("feeds the worker's own metrics: durations and outcomes per task", async () => {
    const { prefix, queue, events } = await setup();
    const metrics = new Metrics({ defaultMetrics: false });
    await startWorkers(
      prefix,
      async (job) => {
        if (job.payload === 'bad') throw new BadInputError('INVALID_ARGUMENT', 'no');
        return 'ok';
      },
      { metrics: { jobs: metrics.jobs, taskOf: (payload) => (payload === 'bad' ? 'adjust' : 'cutout') } },
    );
    await queue.enqueue(spec('good'));
    await queue.enqueue(spec('bad-one', 'u1', 'bad'));
    await eventually(events, ended('good'));
    await eventually(events, ended('bad-one'));
    const { body } = await metrics.scrape();
    expect(body).toContain('vitron_job_outcomes_total{task="cutout",outcome="succeeded"} 1');
    expect(body).toContain('vitron_job_outcomes_total{task="adjust",outcome="failed"} 1');
    expect(body).toContain('vitron_job_failures_total{task="adjust",code="INVALID_ARGUMENT"} 1');
    expect(body).toContain('vitron_job_duration_seconds_count{task="cutout"} 1');
  });

  it('reports queue depth per lane and state from Redis', async () => {
    const { queue } = await setup();
    await queue.enqueue(spec('a'));
    await queue.enqueue(spec('b', 'u2'));
    await queue.enqueue(spec('slow-c', 'u3'));
    const rows = await queue.laneCounts();
    const waitingIn = (lane: string) =>
      rows.filter((r) => r.lane === lane && (r.state === 'waiting' || r.state === 'prioritized')).reduce((n, r) => n + r.count, 0);
    expect(waitingIn('quick')).toBe(2);
    expect(waitingIn('slow')).toBe(1);
    expect(rows.find((r) => r.lane === 'quick' && r.state === 'active')?.count).toBe(0);
  });
});
