import type { Invocation, MediaKind } from '../core/types.ts';
import type { Repositories } from '../store/repositories.ts';
import type { JobRecord } from '../store/types.ts';
import type { JobPayload, JobStep, StepTarget } from '../worker/job-payload.ts';

/** `step:K` targets name the result of step K of the same job. */
export function parseStepRef(ref: string): number | undefined {
  const match = /^step:(\d+)$/.exec(ref);
  return match ? Number(match[1]) : undefined;
}

export function toJobStep(invocation: Invocation, targets: StepTarget[]): JobStep {
  return {
    task: invocation.task,
    targets,
    args: invocation.args,
    ...(invocation.region ? { region: invocation.region } : {}),
    ...(invocation.embeddings ? { embeddings: invocation.embeddings } : {}),
    invocation,
  };
}

/** The kind of media a step works on, following `step:K` back to real media. */
export function kindOfStep(steps: readonly JobStep[], index: number): MediaKind {
  const step = steps[index];
  const first = step?.targets[0];
  if (!step || !first) return 'image';
  if (step.task === 'extract_frame') return 'image';
  if (step.task === 'animate') return 'video';
  return 'media' in first ? first.media.kind : kindOfStep(steps, first.step);
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
