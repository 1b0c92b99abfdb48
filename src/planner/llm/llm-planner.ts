import type { Logger } from 'pino';
import type { Settings } from '../../config/settings.ts';
import { TASKS } from '../../core/tasks.ts';
import type { Plan, PlanContext, Planner } from '../../core/types.ts';
import { VitronError } from '../../errors.ts';
import { chat, type ChatMessage } from '../../llm/chat.ts';
import { encodeForLlm, jpegDataUrl } from '../../llm/picture.ts';
import type { ImageLimits } from '../../media/image.ts';
import { answerToPlan, type PlanLimits } from './answer-to-plan.ts';
import { planMessages } from './plan-request.ts';
import { availableReferences, planAnswerSchema } from './request-schema.ts';

export type LlmPlannerSettings = Pick<
  Settings,
  'LLM_URL' | 'LLM_MODEL' | 'LLM_API_KEY' | 'LLM_TIMEOUT_MS' | 'LLM_PLAN_TIMEOUT_MS' | 'LLM_MAX_IMAGE_SIDE' | 'LLM_VISION'
>;

export interface LlmPlannerDeps {
  settings: LlmPlannerSettings;
  logger: Pick<Logger, 'info' | 'warn'>;
  /** Answers when the LLM cannot: unreachable, too slow, or no valid plan after one repair. */
  fallback: Planner;
  limits: ImageLimits;
}

/** Plans are short; a model that writes more is rambling, and the repair request says so. */
const MAX_TOKENS = 1024;

/**
 * Plans each turn with the LLM endpoint: it sees the turn, the conversation (as data), the tasks that can run
 * now and, when it takes images, the picture. Its answer is constrained by a JSON schema built for the turn and
 * validated like every plan; one repair request quotes the problem; after that, or when the endpoint fails,
 * the rule-based planner answers and the log says why. Nothing it says reaches the queue unvalidated.
 */
export class LlmPlanner implements Planner {
  readonly name = 'llm';
  readonly readsConversation = true;

  constructor(private readonly deps: LlmPlannerDeps) {}

  async plan(text: string, context: PlanContext): Promise<Plan> {
    const tasks = context.runnable ?? TASKS;
    const references = availableReferences(context);
    const limits: PlanLimits = { tasks: new Set(tasks), references: new Set(references) };
    const started = Date.now();
    try {
      const picture = this.deps.settings.LLM_VISION ? await this.pictureUrl(context) : undefined;
      const messages = planMessages(text, context, tasks, references, picture);
      const schema = { name: 'plan', schema: planAnswerSchema(tasks, references), strict: true };
      const first = await this.ask(messages, schema);
      let reading = answerToPlan(first, limits);
      if ('problem' in reading) {
        this.deps.logger.info({ planner: 'llm', problem: reading.problem }, 'llm planner: asking again with the problem');
        const repair: ChatMessage[] = [
          ...messages,
          { role: 'assistant', content: first },
          { role: 'user', content: `That answer is not a valid plan: ${reading.problem}. Answer again with one JSON object in the schema.` },
        ];
        reading = answerToPlan(await this.ask(repair, schema), limits);
        if ('problem' in reading) return this.fallBack(text, context, `no valid plan after one repair: ${reading.problem}`);
      }
      this.deps.logger.info({ planner: 'llm', ms: Date.now() - started, tasks: reading.plan.invocations.map((i) => i.task) }, 'llm planner: planned');
      return reading.plan;
    } catch (error) {
      if (error instanceof VitronError) return this.fallBack(text, context, error.message);
      throw error;
    }
  }

  private async ask(messages: ChatMessage[], jsonSchema: { name: string; schema: Record<string, unknown>; strict: boolean }): Promise<string> {
    const { settings } = this.deps;
    const answer = await chat(settings, {
      messages,
      maxTokens: MAX_TOKENS,
      // Plans should not vary from run to run.
      temperature: 0,
      jsonSchema,
      timeoutMs: settings.LLM_PLAN_TIMEOUT_MS,
    });
    return answer.text;
  }

  private async fallBack(text: string, context: PlanContext, reason: string): Promise<Plan> {
    this.deps.logger.warn({ planner: 'llm', fallback: this.deps.fallback.name, reason }, 'llm planner: the rule-based planner answers this turn');
    return this.deps.fallback.plan(text, context);
  }

  /** The turn's picture as a JPEG data URL no larger than LLM_MAX_IMAGE_SIDE, or none (no picture, or unreadable). */
  private async pictureUrl(context: PlanContext): Promise<string | undefined> {
    const bytes = await context.picture?.();
    if (bytes === undefined) return undefined;
    try {
      return jpegDataUrl(await encodeForLlm(bytes, this.deps.limits, this.deps.settings.LLM_MAX_IMAGE_SIDE));
    } catch {
      // The job's own step will say what is wrong with the picture; planning goes on without looking.
      return undefined;
    }
  }
}
