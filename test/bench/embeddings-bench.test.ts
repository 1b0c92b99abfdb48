import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { embeddingsSection } from '../../bench/embeddings.ts';
import { lineWith, numbersIn } from '../helpers/report-lines.ts';

describe('bench/embeddings section', () => {
  it('counts the text encodings of a per-frame video job: every detector frame fused, once on the worker, none with the planner’s', {
    timeout: 180_000,
  }, async () => {
    // One run: the test checks the counts and the report's shape, never its speed.
    const { lines } = await embeddingsSection.run({ runs: 1, warmup: 0 });
    const encodings = (label: RegExp) => numbersIn(lineWith(lines, label));
    expect(encodings(/^ {2}fused graph \(before this cut\) +text encodings/)).toEqual([8, 8]);
    expect(encodings(/^ {2}two halves, phrase encoded on the worker +text encodings/)).toEqual([1, 8]);
    expect(encodings(/^ {2}two halves, the planner's embedding +text encodings/)).toEqual([0, 8]);
    expect(lines.filter((l) => l.startsWith('  goal:')).every((l) => l.endsWith(' MET') && !l.endsWith('NOT MET'))).toBe(true);
  });

  it('is a section of npm run bench', async () => {
    expect(embeddingsSection.name).toBe('embeddings');
    const run = await fs.readFile(new URL('../../bench/run.ts', import.meta.url), 'utf8');
    expect(run).toMatch(/\bembeddingsSection\b/);
    for (const line of run.split('\n')) expect(line.length).toBeLessThanOrEqual(160);
  });
});
