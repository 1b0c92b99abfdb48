/**
 * The eval's one table: each section's rows (what ran, on which reference, the numbers), and the
 * comparisons whose numbers model choice reads (stored per machine by eval/run.ts).
 */
import type { MeasuredComparison } from '../src/vision/models/measured-quality.ts';

export interface EvalRow {
  /** The way that ran: a catalog model, a weightless way (opencv-telea), or a reference (bicubic). */
  way: string;
  /** What it ran on, and against which truth. */
  on: string;
  /** Metric name → value, in the order printed. */
  metrics: Record<string, number>;
  /** The installed files are random-weight fixtures, not the real model: its numbers say nothing of the real one. */
  fixture?: boolean;
}

export interface EvalReport {
  title: string;
  rows: EvalRow[];
  /** Lines under the rows: what could not run, and why. */
  notes: string[];
  /** Keyed by the comparison name model choice reads (measured-quality.ts CHOICE_COMPARISONS). */
  comparisons: Record<string, MeasuredComparison>;
}

export interface EvalSection {
  name: string;
  run(): Promise<EvalReport>;
}

function formatValue(name: string, value: number): string {
  if (!Number.isFinite(value)) return `${name} ${value > 0 ? '∞' : 'n/a'}`;
  return `${name} ${/dB/.test(name) ? value.toFixed(2) : value.toFixed(3)}`;
}

export function formatRow(row: EvalRow): string {
  const metrics = Object.entries(row.metrics).map(([name, value]) => formatValue(name, value));
  return `  ${row.way.padEnd(22)} ${row.on.padEnd(48)} ${metrics.join('  ')}${row.fixture ? '  (fixture weights)' : ''}`;
}

/** One comparison for model choice: each row's `metric` value by way, measured now. */
export function comparisonOf(rows: readonly EvalRow[], metric: string, measuredAt: string): MeasuredComparison {
  const scores: MeasuredComparison['scores'] = {};
  for (const row of rows) {
    const value = row.metrics[metric];
    if (value === undefined || !Number.isFinite(value)) continue;
    scores[row.way] = { value, measuredAt, ...(row.fixture ? { fixture: true } : {}) };
  }
  return { metric, scores };
}
