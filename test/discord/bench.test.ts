import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { discordSection, runDiscordBench } from '../../bench/discord.ts';
import { lineWith, numbersIn } from '../helpers/report-lines.ts';

const positive = (n: number | undefined) => Number.isFinite(n) && n! > 0;

describe('bench/discord section (fake Discord, no-op queue)', () => {
  it('reports ack percentiles, both no-op job times and their ratio as finite positive numbers', { timeout: 60_000 }, async () => {
    // Tiny numbers: the test checks the report's shape, never its speed.
    const report = await runDiscordBench({ warmup: 0, users: 3, rounds: 1, jobs: 2 });
    const lines = report.lines;

    const [users, ackP50, ackP99, interactions, rounds] = numbersIn(lineWith(lines, /^ {2}INTERACTION_CREATE → deferred ack/));
    expect([users, interactions, rounds]).toEqual([3, 3, 1]);
    expect(positive(ackP50) && positive(ackP99) && ackP99! >= ackP50!).toBe(true);
    const [finalP50, finalP99] = numbersIn(lineWith(lines, /^ {2}INTERACTION_CREATE → final edit/));
    expect(positive(finalP50) && positive(finalP99)).toBe(true);

    const viaAdapter = numbersIn(lineWith(lines, /^ {2}no-op job via the adapter/));
    const direct = numbersIn(lineWith(lines, /^ {2}same no-op job straight to the bot/));
    expect(viaAdapter.every(positive) && viaAdapter.length === 2).toBe(true);
    expect(direct.every(positive) && direct.length === 2).toBe(true);
    const [ratio, minRatio] = numbersIn(lineWith(lines, /^ {2}adapter \/ direct/));
    expect(positive(ratio) && positive(minRatio)).toBe(true);
  });

  it('is a section of npm run bench', async () => {
    expect(discordSection.name).toBe('discord');
    // Read, not imported: importing bench/run.ts runs the whole benchmark.
    const run = await fs.readFile(new URL('../../bench/run.ts', import.meta.url), 'utf8');
    expect(run).toMatch(/^export const SECTIONS[^\n]*\bdiscordSection\b/m);
  });
});
