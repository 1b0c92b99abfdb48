import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { bullmqOptions, percentile, type BullmqBenchOptions } from '../../bench/bullmq-parts.ts';
import { runBullmqBench } from '../../bench/bullmq.ts';
import { TEST_REDIS_URL, describeWithRedis, uniquePrefix } from '../queue/bullmq-redis.ts';
import { lineWith, numbersIn } from '../helpers/report-lines.ts';

/** Numbers small enough for a shared CI machine: the test checks the report's shape, never its speed. */
function tiny(prefixBase: string, redisUrl = TEST_REDIS_URL): BullmqBenchOptions {
  return {
    ...bullmqOptions({ BENCH_REDIS_URL: redisUrl }, { runs: 1, warmup: 0 }),
    prefixBase,
    jobs: 20,
    concurrency: 2,
    submitters: [1, 3],
    latencyJobs: 6,
    processes: [1, 2],
    scalingJobs: 6,
    workMs: 1,
  };
}

async function keysUnder(pattern: string): Promise<string[]> {
  const client = new Redis(TEST_REDIS_URL);
  try {
    return await client.keys(pattern);
  } finally {
    await client.quit();
  }
}

describe('bench/bullmq helpers', () => {
  it('takes nearest-rank percentiles', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('reads its knobs from the environment, and BENCH_REDIS_URL wins over REDIS_URL', () => {
    const o = bullmqOptions({ BENCH_REDIS_URL: 'redis://bench:1', REDIS_URL: 'redis://app:2', BENCH_BULLMQ_JOBS: '77' });
    expect(o).toMatchObject({ redisUrl: 'redis://bench:1', jobs: 77, submitters: [1, 10, 100], processes: [1, 2, 4] });
    expect(bullmqOptions({ REDIS_URL: 'redis://app:2' }).redisUrl).toBe('redis://app:2');
    expect(() => bullmqOptions({ BENCH_BULLMQ_JOBS: 'many' })).toThrow(/BENCH_BULLMQ_JOBS/);
  });

  it('reports one "skipped" line when Redis is not reachable', async () => {
    const report = await runBullmqBench(tiny('bench-test', 'redis://:secret@127.0.0.1:1'));
    expect(report.lines).toEqual(['  skipped: no Redis at redis://:***@127.0.0.1:1 (set BENCH_REDIS_URL or REDIS_URL, or start redis-server)']);
  });
});

describeWithRedis('bench/bullmq section (real Redis, real worker processes)', () => {
  it('reports throughput, latency percentiles and the scaling curve as finite positive numbers, and leaves no keys behind', { timeout: 60_000 }, async () => {
    const base = `${uniquePrefix()}-bench`;
    const report = await runBullmqBench(tiny(base));
    const lines = report.lines;

    expect(report.title).toMatch(/\d+ CPUs/);
    const positive = (n: number | undefined) => Number.isFinite(n) && n! > 0;
    // Each contender: its throughput and the Redis commands one no-op job cost it (counted with MONITOR).
    for (const pattern of [/^ {2}raw BullMQ: /, /^ {2}our layer as deployed \(at most \d+ running per user\) /, /^ {2}our layer without the running limit /]) {
      const line = lineWith(lines, pattern);
      const [jobsPerSecond, commandsPerJob] = [/([\d.]+) jobs\/s/, /([\d.]+) commands\/job/].map((re) => Number(re.exec(line)?.[1]));
      expect(positive(jobsPerSecond) && positive(commandsPerJob), line).toBe(true);
    }
    // One ratio is judged: ours as deployed against raw.
    expect(lineWith(lines, /^ {2}ours as deployed \/ raw /)).toMatch(/[\d.]+×\s+goal ≥ 0\.90×: (?:MET|NOT MET)$/);

    for (const submitters of ['1 submitter ', '3 submitters ']) {
      const line = lineWith(lines, new RegExp(`^  ${submitters}\\(`));
      // raw p50, raw p99, ours p50, ours p99, then the two ratios.
      const [, , rawP50, rawP99, ourP50, ourP99, p50Ratio, p99Ratio] = numbersIn(line);
      for (const n of [rawP50, rawP99, ourP50, ourP99, p50Ratio, p99Ratio]) expect(positive(n), line).toBe(true);
      expect(rawP99!).toBeGreaterThanOrEqual(rawP50!);
      expect(ourP99!).toBeGreaterThanOrEqual(ourP50!);
    }

    const one = lineWith(lines, /^ {2}1 worker process /);
    const two = lineWith(lines, /^ {2}2 worker processes /);
    expect(numbersIn(one)).toEqual([1, expect.any(Number), 1, 1]);
    for (const line of [one, two]) expect(positive(numbersIn(line)[1]), line).toBe(true);
    // Both processes of the 2-process level reported how many jobs they ran.
    expect(two).toMatch(/jobs per process \d+–\d+ %/);

    expect(report.goals.length).toBeGreaterThanOrEqual(1);
    for (const goal of report.goals) expect(Number.isFinite(goal.actual), JSON.stringify(goal)).toBe(true);
    expect(await keysUnder(`${base}*`)).toEqual([]);
  });
});
