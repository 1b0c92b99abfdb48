import type { Task } from '../core/tasks.ts';
import type { MediaKind } from '../core/types.ts';
import type { StoredMedia } from '../store/types.ts';
import type { JobOutcome } from '../worker/job-payload.ts';

const DONE: Partial<Record<Task, string>> = {
  cutout: 'Here is the cut-out',
  background: 'Here it is on the new background',
  adjust: 'Adjusted',
  transform: 'Done',
  trim: 'Trimmed',
  speed: 'Changed the speed',
  reverse: 'Reversed',
  to_gif: 'Here is the animation',
  extract_frame: 'Here is the frame',
  segment: 'Here is the mask',
  remove: 'Removed',
  upscale: 'Upscaled',
};

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
    const lead = chain ? `Done (${chain})` : (DONE[last.task] ?? 'Done');
    lines.push(`${lead}: ${name(result)}.`);
  }
  if (lines.length === 0) lines.push('Done.');
  return lines.join('\n');
}
