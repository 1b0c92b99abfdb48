import type { Task } from '../core/tasks.ts';
import { argSpec } from '../core/tasks.ts';
import { NUMBER_SOURCE, parseNumber } from './numbers.ts';
import { COUNT_SOURCE, parseCount } from './rules/picture-count.ts';
import type { RuleInput } from './rules/rule.ts';

/**
 * Settings people add to any generative request, whatever its wording: "with seed 42", "seed: 7", "in 4 steps",
 * and the Midjourney flags "--seed 7", "--no watermark", "--ar 16:9". They are taken out of the clause before
 * the rules read it (so "make it winter, seed 5" is still an edit whose instruction is "make it winter") and
 * given back as arguments when the task that matched takes them; a task that takes none of them is read on
 * the clause as typed.
 */

export interface GenerationOptions {
  args: Record<string, unknown>;
  /** A setting out of its range ("in 80 steps"): the reply to give instead. */
  problem?: string;
}

interface Option {
  pattern: RegExp;
  read(m: RegExpExecArray): [name: string, value: unknown] | undefined;
}

const N = NUMBER_SOURCE;
const OPTIONS: Option[] = [
  {
    pattern: /[,\s]*(?:\b(?:with|using|at|on)\s+)?(?:\b(?:the|a)\s+)?(?:--seed\b|\bseed\b)\s*(?:[:=#]|number)?\s*(\d{1,10})\b/i,
    read: (m) => ['seed', Number(m[1])],
  },
  {
    // Only as a setting at the end of a clause ("…, 8 steps", "in 4 steps"): "draw 100 steps to a temple" is a scene.
    pattern: new RegExp(
      String.raw`(?:\s*,\s*(?:(?:in|with|using)\s+)?|\s+(?:in|with|using)\s+)(${N})\s+(?:denoising\s+|sampling\s+|inference\s+)?steps(?=\s*(?:$|,|--))`,
      'i',
    ),
    read: (m) => ['steps', parseNumber(m[1]!)],
  },
  { pattern: /[,\s]*--steps\s*[=:]?\s*(\d{1,3})\b/i, read: (m) => ['steps', Number(m[1])] },
  {
    // A count as a trailing setting: "a red fox in the snow, 4 pictures", "…, three versions".
    pattern: new RegExp(String.raw`\s*,\s*(?:as\s+|in\s+)?(${COUNT_SOURCE})\s+(?:pictures|images|versions|variants|takes|options|pics)(?=\s*(?:$|,|--))`, 'i'),
    read: (m) => ['count', parseCount(m[1]!)],
  },
  { pattern: /[,\s]*--(?:n|count|repeat)\s*[=:]?\s*(\d{1,2})\b/i, read: (m) => ['count', Number(m[1])] },
  // "--no" runs to the next flag or the end: "--no people, text --ar 3:2".
  { pattern: /[,\s]*--no\s+([^-][\s\S]*?)(?=\s+--|$)/i, read: (m) => ['negative', m[1]!.trim().replace(/[,\s]+$/, '')] },
  { pattern: /[,\s]*--(?:ar|aspect)\s*[=:]?\s*(\d{1,2})\s*[:x]\s*(\d{1,2})\b/i, read: (m) => ['aspect', `${m[1]}:${m[2]}`] },
];

function strip(text: string, pattern: RegExp): string {
  return text.replace(pattern, '').replace(/\s+/g, ' ').trim();
}

/** The clause without its generation settings, and the settings; undefined when it has none. */
export function takeGenerationOptions(input: RuleInput): { input: RuleInput; options: GenerationOptions } | undefined {
  let { raw, text, bare, asked } = input;
  const args: Record<string, unknown> = {};
  for (const option of OPTIONS) {
    const m = option.pattern.exec(text);
    if (m === null) continue;
    const read = option.read(m);
    if (read === undefined || read[1] === undefined) continue;
    args[read[0]] = read[1];
    [raw, text, bare, asked] = [raw, text, bare, asked].map((s) => strip(s, option.pattern)) as [string, string, string, string];
  }
  if (Object.keys(args).length === 0) return undefined;
  return { input: { ...input, raw, text, bare, asked }, options: { args, ...checked(args) } };
}

/** The range check against generate_image's row, which every generative task shares (tasks.ts `generating`). */
function checked(args: Record<string, unknown>): { problem?: string } {
  for (const name of ['seed', 'steps', 'count']) {
    const value = args[name];
    const spec = argSpec('generate_image', name);
    if (typeof value !== 'number' || spec?.kind !== 'number') continue;
    if (!Number.isInteger(value) || value < spec.min || value > spec.max)
      return {
        problem:
          name === 'count'
            ? `I can make at most ${spec.max} pictures at once (they come as one grid). Ask for ${spec.max}, then for more if you like.`
            : `${name === 'seed' ? 'A seed' : 'The number of steps'} has to be a whole number from ${spec.min} to ${spec.max}.`,
      };
  }
  return {};
}

/** The settings this task takes, or undefined when it takes none of them (then the clause is read as typed). */
export function optionsFor(task: Task, options: GenerationOptions): Record<string, unknown> | undefined {
  const taken = Object.entries(options.args).filter(([name]) => argSpec(task, name) !== undefined);
  return taken.length === 0 ? undefined : Object.fromEntries(taken);
}
