import { readFileSync } from 'node:fs';
import type { MediaKind, PlanContext } from '../core/types.ts';
import { cliPlanner, plannerChoice, type PlannerChoice } from './cli-planner.ts';
import { contextFor } from './context.ts';

/**
 * Debugging phrasings: prints a planner's Plan as one JSON line per input (the rule-based planner, or with
 * `--planner llm` the LLM at LLM_URL; without --planner, the one `npm start` would use).
 *   npm run --silent plan -- [--planner rules|llm] [--with image|video] [--attach image|video]... "<text>"
 *   npm run --silent plan -- [--planner rules|llm] --stdin      (lines "image<TAB>text", "video<TAB>text" or "none<TAB>text")
 * stdout carries the JSON and nothing else, so the output can be piped to jq or compared in tests.
 */

const USAGE =
  'usage: plan [--planner rules|llm] [--with image|video|none] [--attach image|video]... "<text>" | plan [--planner rules|llm] --stdin  (stdin lines: image|video|none<TAB>text)';

class UsageError extends Error {}

interface Options {
  stdin: boolean;
  planner?: PlannerChoice;
  withKind?: MediaKind;
  attachments: MediaKind[];
  text?: string;
}

function parseKind(value: string | undefined, flag: string, allowNone: boolean): MediaKind | undefined {
  if (value === 'image' || value === 'video') return value;
  if (allowNone && value === 'none') return undefined;
  throw new UsageError(
    `${flag} expects ${allowNone ? 'image, video or none' : 'image or video'} but received ${value === undefined ? 'nothing' : `"${value}"`}`,
  );
}

function parseArguments(argv: string[]): Options {
  const options: Options = { stdin: false, attachments: [] };
  const words: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      words.push(...argv.slice(i + 1));
      break;
    } else if (arg === '--stdin') options.stdin = true;
    else if (arg === '--planner' || arg.startsWith('--planner=')) {
      try {
        options.planner = plannerChoice(arg === '--planner' ? argv[++i] : arg.slice(10));
      } catch (error) {
        throw new UsageError((error as Error).message);
      }
    } else if (arg === '--with') options.withKind = parseKind(argv[++i], '--with', true);
    else if (arg.startsWith('--with=')) options.withKind = parseKind(arg.slice(7), '--with', true);
    else if (arg === '--attach') options.attachments.push(parseKind(argv[++i], '--attach', false)!);
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else if (arg.startsWith('--')) throw new UsageError(`unknown option ${arg}`);
    else words.push(arg);
  }
  if (options.stdin && (words.length > 0 || options.withKind !== undefined || options.attachments.length > 0)) {
    throw new UsageError('--stdin takes the media kind from each line; give no text or --with/--attach with it');
  }
  if (!options.stdin && words.length === 0) throw new UsageError('no text given');
  if (words.length > 0) options.text = words.join(' ');
  return options;
}

async function main(argv: string[]): Promise<number> {
  let options: Options;
  try {
    options = parseArguments(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    if (error.message !== '') process.stderr.write(`plan: ${error.message}\n`);
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { planner, context: withMachine } = cliPlanner(options.planner);
  const planLine = async (text: string, context: PlanContext) => JSON.stringify(await planner.plan(text, withMachine(context)));
  if (!options.stdin) {
    process.stdout.write(`${await planLine(options.text!, contextFor(options.withKind, options.attachments))}\n`);
    return 0;
  }
  const lines = readFileSync(0, 'utf8').split(/\r?\n/);
  const inputs: { text: string; context: PlanContext }[] = [];
  for (const [index, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const tab = line.indexOf('\t');
    const kind = tab < 0 ? '' : line.slice(0, tab).trim();
    if (kind !== 'image' && kind !== 'video' && kind !== 'none') {
      process.stderr.write(`plan: line ${index + 1} must start with image, video or none and a tab\n${USAGE}\n`);
      return 2;
    }
    inputs.push({ text: line.slice(tab + 1), context: contextFor(kind === 'none' ? undefined : kind) });
  }
  // Checked before printing, so a bad line never leaves half an answer on stdout.
  const planned: string[] = [];
  for (const { text, context } of inputs) planned.push(`${await planLine(text, context)}\n`);
  process.stdout.write(planned.join(''));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`plan: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
