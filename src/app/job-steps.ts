import { outputKindOf } from '../core/tasks.ts';
import type { Invocation, MediaKind } from '../core/types.ts';
import type { Repositories } from '../store/repositories.ts';
import type { JobRecord } from '../store/types.ts';
import type { JobPayload, JobStep, StepTarget } from '../core/job.ts';

/** `step:K` targets name the result of step K of the same job. */
export function parseStepRef(ref: string): number | undefined {
  const match = /^step:(\d+)$/.exec(ref);
  return match ? Number(match[1]) : undefined;
}

export function toJobStep(invocation: Invocation, targets: StepTarget[]): JobStep {
  return { invocation, targets };
}

/**
 * The kind of media a step leaves for a later step that names it: what its task makes (the task table's
 * output), else the kind of its own input, following `step:K` back to real media.
 */
export function kindOfStep(steps: readonly JobStep[], index: number): MediaKind {
  const step = steps[index];
  if (!step) return 'image';
  const first = step.targets[0];
  const input = first === undefined ? undefined : 'media' in first ? first.media.kind : kindOfStep(steps, first.step);
  return outputKindOf(step.invocation.task, input) ?? 'image';
}

/** Rebuilds a stored job's payload (after a restart) from its steps and their media ids. */
export async function payloadOf(job: JobRecord, repos: Repositories): Promise<JobPayload> {
  const steps: JobStep[] = [];
  for (const step of job.steps) {
    const targets: StepTarget[] = [];
    for (const id of step.targetIds) {
      const ref = parseStepRef(id);
      targets.push(ref === undefined ? { media: await repos.media.get(id) } : { step: ref });
    }
    steps.push(toJobStep(step.invocation, targets));
  }
  return { jobId: job.id, conversationId: job.conversationId, steps };
}
