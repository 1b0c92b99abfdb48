/**
 * Shared benchmark plumbing: warm-up + N timed runs + median, ratios against a floor measured in the same
 * run, and a section interface so that anyone can add a section to bench/run.ts.
 */

export interface Measurement {
  label: string;
  samplesMs: number[];
  medianMs: number;
  /** The fastest run: on a shared machine, the least disturbed by other work. */
  minMs: number;
}

export interface MeasureOptions {
  warmup?: number;
  runs?: number;
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function measure(label: string, fn: () => Promise<unknown>, options: MeasureOptions = {}): Promise<Measurement> {
  const { warmup = 1, runs = 5 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const samplesMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samplesMs.push(performance.now() - start);
  }
  return { label, samplesMs, medianMs: median(samplesMs), minMs: Math.min(...samplesMs) };
}

/**
 * Interleaved measurement: one run of each contender per round. On a shared machine the load drifts
 * over minutes; interleaving makes every contender see the same drift, so their ratios stay honest.
 */
export async function measureInterleaved(
  contenders: readonly { label: string; fn: () => Promise<unknown> }[],
  options: MeasureOptions = {},
): Promise<Measurement[]> {
  const { warmup = 1, runs = 5 } = options;
  for (let i = 0; i < warmup; i++) for (const c of contenders) await c.fn();
  const samples = contenders.map(() => [] as number[]);
  for (let r = 0; r < runs; r++) {
    for (const [i, c] of contenders.entries()) {
      const start = performance.now();
      await c.fn();
      samples[i]!.push(performance.now() - start);
    }
  }
  return contenders.map((c, i) => ({ label: c.label, samplesMs: samples[i]!, medianMs: median(samples[i]!), minMs: Math.min(...samples[i]!) }));
}

export function formatMs(ms: number): string {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

export function formatRatio(value: number): string {
  return `${value.toFixed(2)}×`;
}

export interface Goal {
  text: string;
  /** The goal holds when actual ≤ limit. */
  limit: number;
  actual?: number;
}

export interface SectionReport {
  title: string;
  lines: string[];
  goals: Goal[];
}

export interface BenchSection {
  name: string;
  run(options: MeasureOptions): Promise<SectionReport>;
}

export function row(label: string, m: Measurement | undefined, extra = ''): string {
  const median = m === undefined ? 'n/a' : formatMs(m.medianMs);
  const min = m === undefined ? '' : `(min ${formatMs(m.minMs)})`;
  return `  ${label.padEnd(50)} ${median.padStart(9)} ${min.padEnd(15)} ${extra}`;
}

/** "1.05× floor (min 1.02×)": the median ratio, and the ratio of the fastest runs. */
export function versus(m: Measurement, floor: Measurement, what = 'floor'): string {
  return `${formatRatio(m.medianMs / floor.medianMs)} ${what} (min ${formatRatio(m.minMs / floor.minMs)})`;
}

export function formatGoal(goal: Goal): string {
  if (goal.actual === undefined || Number.isNaN(goal.actual)) return `  goal: ${goal.text} ≤ ${formatRatio(goal.limit)}: not measured`;
  const ok = goal.actual <= goal.limit;
  return `  goal: ${goal.text} ≤ ${formatRatio(goal.limit)}: ${formatRatio(goal.actual)} ${ok ? 'MET' : 'NOT MET'}`;
}
