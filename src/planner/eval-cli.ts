import { readFileSync } from 'node:fs';
import type { MediaKind } from '../core/types.ts';
import { cliPlanner, plannerChoice, type PlannerChoice } from './cli-planner.ts';
import { contextFor } from './context.ts';

/**
 * `npm run eval:planner -- FILE.tsv [--planner rules|llm]`: how often a planner plans a corpus right. Each line is
 * `image|video|none<TAB>text<TAB>expected tasks` (comma-separated in order, or `-` for an answer in words with
 * no work); a plan is right when its tasks are exactly those. Prints each miss, then the accuracy, for operators
 * who try a real model against their own users' phrasings.
 */

const USAGE = 'usage: eval:planner FILE.tsv [--planner rules|llm]   (lines: image|video|none<TAB>text<TAB>task,task or -)';

interface Case {
  line: number;
  kind: MediaKind | undefined;
  text: string;
  expected: string[];
}

function parseCorpus(file: string): Case[] {
  const cases: Case[] = [];
  for (const [index, raw] of readFileSync(file, 'utf8').split(/\r?\n/).entries()) {
    if (raw.trim() === '' || raw.startsWith('#')) continue;
    const [kind, text, expected] = raw.split('\t');
    if ((kind !== 'image' && kind !== 'video' && kind !== 'none') || text === undefined || expected === undefined) {
      throw new Error(`line ${index + 1} must be image|video|none, a tab, the text, a tab and the expected tasks`);
    }
    const tasks = expected.trim() === '-' ? [] : expected.split(',').map((t) => t.trim());
    cases.push({ line: index + 1, kind: kind === 'none' ? undefined : kind, text, expected: tasks });
  }
  return cases;
}

async function main(argv: string[]): Promise<number> {
  let file: string | undefined;
  let choice: PlannerChoice | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--planner') choice = plannerChoice(argv[++i]);
    else if (arg.startsWith('--planner=')) choice = plannerChoice(arg.slice(10));
    else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}\n${USAGE}`);
    else file = arg;
  }
  if (file === undefined) throw new Error(`no corpus file given\n${USAGE}`);
  const cases = parseCorpus(file);
  const { planner, context } = cliPlanner(choice);
  let right = 0;
  const started = performance.now();
  for (const c of cases) {
    const plan = await planner.plan(c.text, context(contextFor(c.kind)));
    const got = plan.invocations.map((i) => i.task);
    if (got.join(',') === c.expected.join(',')) right++;
    else process.stdout.write(`miss line ${c.line}: ${JSON.stringify(c.text)} → ${got.join(',') || '-'} (expected ${c.expected.join(',') || '-'})\n`);
  }
  const ms = (performance.now() - started) / Math.max(1, cases.length);
  const share = cases.length === 0 ? 0 : (100 * right) / cases.length;
  process.stdout.write(`${planner.name} planner: ${right}/${cases.length} planned right (${share.toFixed(1)} %), ${ms.toFixed(1)} ms per turn\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`eval:planner: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
