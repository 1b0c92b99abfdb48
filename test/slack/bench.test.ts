import { describe, expect, it } from 'vitest';
import { percentile, runSlackBench } from './slack-bench.ts';

/** Tiny numbers: this checks that the bench runs and reports, never how fast anything is. */
describe('Slack bench', () => {
  it('reports event → ack percentiles and the adapter overhead on a small job', async () => {
    const report = await runSlackBench({ users: 3, rounds: 1, jobs: 1 });
    expect(report.ackMs.count).toBe(3);
    expect(Number.isFinite(report.ackMs.p99)).toBe(true);
    expect(Number.isFinite(report.viaSlackMs) && Number.isFinite(report.directMs)).toBe(true);
    expect(report.lines).toHaveLength(2);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  }, 180_000);
});
