import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { mcpSection, runMcpBench } from '../../bench/mcp.ts';
import { numbersIn } from '../helpers/report-lines.ts';

const positive = (n: number | undefined) => Number.isFinite(n) && n! > 0;

describe('bench/mcp section', () => {
  it('times the direct job and both MCP transports on the no-op bot and the real bot, with ratios and the goal line', { timeout: 120_000 }, async () => {
    // One run: the test checks the report's shape, never its speed.
    const { lines } = await runMcpBench({ runs: 1, warmup: 0 });
    const timed = lines.filter((l) => /^ {4}(straight to the bot|as an MCP tool call)/.test(l));
    expect(timed).toHaveLength(6);
    for (const line of timed)
      expect(
        numbersIn(line.replace(/\d+×\d+/, ''))
          .slice(-2)
          .every(positive),
      ).toBe(true);
    const ratios = lines.filter((l) => /^ {4}MCP (over HTTP|in memory) \/ direct/.test(l));
    expect(ratios).toHaveLength(4);
    expect(lines.find((l) => l.startsWith('  goal (real bot): MCP over HTTP ≤ 1.20× direct or ≤ +5 ms: '))).toMatch(/ (MET|NOT MET)$/);
  });

  it('is a section of npm run bench', async () => {
    expect(mcpSection.name).toBe('mcp');
    const run = await fs.readFile(new URL('../../bench/run.ts', import.meta.url), 'utf8');
    expect(run).toMatch(/^export const SECTIONS[^\n]*\bmcpSection\b/m);
  });
});
