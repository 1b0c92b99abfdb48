import { randomInt } from 'node:crypto';
import type { JobStep, StepTarget } from '../core/job.ts';
import { argSpec, factsOf, usesEngine } from '../core/tasks.ts';
import { checkGenerationQuota, picturesAsked, startOfUtcDay } from '../limits/generation-quota.ts';
import type { Invocation } from '../core/types.ts';
import { BadInputError, ContentBlockedError, asVitronError, operatorHintOf } from '../errors.ts';
import { checkPrompt } from '../safety/prompt-filter.ts';
import type { ResolvedStep, Turn, User } from '../store/types.ts';
import type { JobView } from './bot-api.ts';
import type { BotDeps } from './bot-deps.ts';
import { kindOfStep, parseStepRef, toJobStep } from './job-steps.ts';
import { jobView } from './views.ts';

type SubmitDeps = Pick<BotDeps, 'conversations' | 'queue' | 'repos' | 'readiness' | 'logger' | 'settings'>;

/**
 * A turn's work as one job: each invocation's targets resolved (media ids, or `step:K` for an earlier step's
 * result), checked against readiness before anything is queued, recorded, then enqueued. Bad input comes back
 * as `{ error }` for the bot's reply; a job the queue refuses is recorded as failed.
 */
export async function submitJob(
  deps: SubmitDeps,
  conversationId: string,
  user: User,
  userTurn: Turn,
  invocations: Invocation[],
): Promise<{ job: JobView } | { error: string; operatorHint?: string }> {
  const steps: ResolvedStep[] = [];
  const payloadSteps: JobStep[] = [];
  try {
    const asking = picturesAsked(invocations.map(withGenerationDefaults));
    if (asking > 0) {
      const now = new Date();
      const earlier = await deps.repos.jobs.listCountedForUserSince(user.id, startOfUtcDay(now));
      checkGenerationQuota(deps.settings.GENERATION_DAILY_QUOTA, earlier, asking, now);
    }
    for (const [index, planned] of invocations.entries()) {
      const invocation = withGenerationDefaults(planned);
      // Safety: a prompt with a blocked term stops the whole turn here, before a job is recorded or queued.
      const prompt = invocation.args.prompt;
      if (typeof prompt === 'string' && prompt.trim() !== '') checkPrompt(prompt, deps.settings);
      const targets = await resolveTargets(deps, conversationId, userTurn.id, invocation, index);
      const kinds = targets.map((t) => ('media' in t ? t.media.kind : kindOfStep(payloadSteps, t.step)));
      deps.readiness.check(invocation.task, kinds, invocation.args);
      steps.push({ invocation: withoutEmbeddings(invocation), targetIds: targets.map((t) => ('media' in t ? t.media.id : `step:${t.step}`)) });
      payloadSteps.push(toJobStep(invocation, targets));
    }
  } catch (error) {
    if (error instanceof ContentBlockedError) {
      deps.logger.warn({ conversationId, userId: user.id, ...error.details }, 'safety: prompt blocked');
    }
    if (error instanceof BadInputError) {
      // The chat hears "ask its admin"; the admin reads here what to pull or set.
      const operatorHint = operatorHintOf(error);
      if (operatorHint !== undefined)
        deps.logger.warn({ conversationId, code: error.code, task: error.details.task, operatorHint }, 'task refused: not available here');
      return { error: error.message, ...(operatorHint !== undefined ? { operatorHint } : {}) };
    }
    throw error;
  }

  const record = await deps.repos.jobs.create({ conversationId, turnId: userTurn.id, userId: user.id, steps });
  try {
    const { position } = await deps.queue.enqueue({
      id: record.id,
      userId: user.id,
      conversationId,
      payload: { jobId: record.id, conversationId, steps: payloadSteps },
    });
    deps.logger.info({ jobId: record.id, conversationId, tasks: invocations.map((i) => i.task), position }, 'job queued');
    return { job: jobView(record, { queuePosition: position }) };
  } catch (error) {
    const problem = asVitronError(error);
    await deps.repos.jobs.fail(record.id, { code: problem.code, message: problem.message });
    if (error instanceof BadInputError) return { error: problem.message };
    throw error;
  }
}

/**
 * The invocation as the store keeps it (the job's plan, each result's "made by"): without its embeddings. They
 * are derived from the words by whatever encoder was installed when the job was queued, an SD prompt's weigh
 * ~80 000 numbers, and the queue payload carries them to the worker; history, "again" and the planner's context
 * need the words only (and a job resumed from the store is encoded again by its worker).
 */
function withoutEmbeddings(invocation: Invocation): Invocation {
  const { embeddings: _sent, ...kept } = invocation;
  return kept;
}

/**
 * An engine step with its seed and argument fallbacks written in: the job records what really runs, so
 * "again" and Retry make the same picture, and quotas count what was asked.
 */
function withGenerationDefaults(invocation: Invocation): Invocation {
  if (!usesEngine(invocation.task, invocation.args)) return invocation;
  const args = { ...invocation.args };
  for (const [name, spec] of Object.entries(factsOf(invocation.task).args)) {
    if (args[name] === undefined && spec.fallback !== undefined) args[name] = spec.fallback;
  }
  if (args.seed === undefined && argSpec(invocation.task, 'seed') !== undefined) args.seed = randomInt(0, 2 ** 32 - 1);
  return { ...invocation, args };
}

async function resolveTargets(deps: SubmitDeps, conversationId: string, turnId: string, invocation: Invocation, index: number): Promise<StepTarget[]> {
  const targets: StepTarget[] = [];
  for (const ref of invocation.targets) {
    const k = parseStepRef(ref);
    if (k !== undefined) {
      if (k >= index) throw new BadInputError('REFERENCE_UNRESOLVED', 'A step of the plan refers to a later step; please say it in order.');
      targets.push({ step: k });
    } else {
      const [media] = await deps.conversations.resolveTargets(conversationId, [ref], [], { turnId });
      targets.push({ media: media! });
    }
  }
  return targets;
}
