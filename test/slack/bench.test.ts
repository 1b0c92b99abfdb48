import { describe, expect, it } from 'vitest';
import { percentile, runSlackBench, slackBenchOptions, slackSection } from '../../bench/slack.ts';

/** Tiny numbers: this checks that the section runs and reports, never how fast anything is. */
describe('Slack bench section', () => {
  it('reports event → ack percentiles for both modes and the adapter overhead on a no-op job', async () => {
    const report = await runSlackBench({ users: 3, rounds: 1, jobs: 1, warmup: 0 });
    expect(report.ack.socket.count).toBe(3);
    expect(report.ack.http.count).toBe(3);
    for (const value of [report.ack.socket.p50, report.ack.socket.p99, report.ack.http.p50, report.ack.http.p99, report.directMs, report.viaSlackMs]) {
      expect(Number.isFinite(value) && value > 0).toBe(true);
    }
    const numbered = report.lines.filter((line) => /\d+(\.\d+)? ms/.test(line));
    expect(numbered.length).toBeGreaterThanOrEqual(5);
    for (const line of numbered) {
      for (const match of line.matchAll(/(\d+(?:\.\d+)?) ms/g)) expect(Number(match[1])).toBeGreaterThan(0);
    }
    expect(report.lines.some((line) => /\d+\.\d+× direct/.test(line))).toBe(true);
  }, 180_000);

  it('is a section of npm run bench, sized from the environment', () => {
    expect(slackSection.name).toBe('slack');
    expect(slackBenchOptions({}, { runs: 5, warmup: 1 })).toEqual({ users: 50, rounds: 3, jobs: 15, warmup: 1 });
    expect(slackBenchOptions({ BENCH_SLACK_USERS: '7', BENCH_SLACK_JOBS: '2' }, { runs: 1, warmup: 0 })).toEqual({ users: 7, rounds: 1, jobs: 2, warmup: 0 });
    expect(() => slackBenchOptions({ BENCH_SLACK_USERS: 'lots' })).toThrow(/BENCH_SLACK_USERS/);
    expect(percentile([1, 2, 3, 4], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4], 99)).toBe(4);
  });
});
