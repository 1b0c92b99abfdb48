import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { plannerSection, runPlannerBench } from '../../bench/planner.ts';
import { lineWith, numbersIn } from '../helpers/report-lines.ts';

describe('bench/planner section', () => {
  it('reports both planners’ time per turn and their ratio as finite positive numbers', { timeout: 60_000 }, async () => {
    // One run: the test checks the report's shape, never its speed.
    const { lines } = await runPlannerBench({ runs: 1, warmup: 0 });
    const rules = numbersIn(lineWith(lines, /^ {2}rule-based planner /));
    const llm = numbersIn(lineWith(lines, /^ {2}LLM planner against an instant local server/));
    for (const n of [...rules, ...llm]) expect(Number.isFinite(n) && n > 0).toBe(true);
    expect(numbersIn(lineWith(lines, /^ {2}LLM planner \/ rule-based/))[0]).toBeGreaterThan(0);
  });

  it('is a section of npm run bench', async () => {
    expect(plannerSection.name).toBe('planner');
    const run = await fs.readFile(new URL('../../bench/run.ts', import.meta.url), 'utf8');
    expect(run).toMatch(/^export const SECTIONS[^\n]*\bplannerSection\b/m);
  });
});
