import { factsOf } from '../core/tasks.ts';
import type { Choice, MediaKind } from '../core/types.ts';
import type { StoredMedia } from '../store/types.ts';
import type { JobOutcome } from '../core/job.ts';

/** "Which one?" in words, for platforms without buttons and for the history: the question, the options, how to answer. */
function choiceLines(choice: Choice, already: readonly string[]): string[] {
  const lines = already.some((l) => l.includes(choice.question)) ? [] : [choice.question];
  for (const [i, option] of choice.options.entries()) lines.push(`${i + 1}. ${option}`);
  lines.push(`Answer with a number (e.g. "${Math.min(2, choice.options.length)}").`);
  return lines;
}

/** The bot's words under a finished job: what the specialists said, or what was made and its name. */
export function describeOutcome(
  outcome: JobOutcome,
  shown: readonly StoredMedia[],
  name: (media: { kind: MediaKind; ordinal: number | null }) => string,
): string {
  const lines: string[] = [];
  const last = outcome.steps.at(-1);
  for (const step of outcome.steps) if (step.text) lines.push(step.text);
  const result = shown.find((m) => m.role === 'result');
  if (last && result) {
    const chain = outcome.steps.length > 1 ? outcome.steps.map((s) => s.task.replace('_', ' ')).join(' → ') : undefined;
    const lead = chain ? `Done (${chain})` : (factsOf(last.task).done ?? 'Done');
    lines.push(`${lead}: ${name(result)}.`);
  }
  if (last?.choice) lines.push(...choiceLines(last.choice, lines));
  if (lines.length === 0) lines.push('Done.');
  return lines.join('\n');
}
