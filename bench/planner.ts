/**
 * Planning latency per turn, our side only: the rule-based planner on the held-out generation phrasings, and the
 * LLM planner on the same turns against a local OpenAI-compatible server that answers at once with a fixed
 * valid plan (test/fakes/openai-vision): what the LLM planner itself adds — the turn's schema and messages, the
 * HTTP round trip through the openai client, reading and validating the answer — before any model thinks.
 */
import pino from 'pino';
import { loadSettings } from '../src/config/settings.ts';
import { TASKS } from '../src/core/tasks.ts';
import { BaselinePlanner } from '../src/planner/baseline-planner.ts';
import { LlmPlanner } from '../src/planner/llm/llm-planner.ts';
import { availableReferences, planAnswerSchema } from '../src/planner/llm/request-schema.ts';
import { startFakeVisionServer } from '../test/fakes/openai-vision/server.ts';
import { GENERATION_HELD_OUT, situation } from '../test/planner/generation-phrasings.ts';
import { formatRatio, measureInterleaved, type BenchSection, type MeasureOptions, type SectionReport } from './measure.ts';

const MODEL = 'bench-model';
const ANSWER = JSON.stringify({ reply: null, invocations: [{ task: 'adjust', targets: ['current'], args: { grayscale: true } }] });
const ms = (value: number): string => `${value.toFixed(2)} ms`;

export async function runPlannerBench({ runs = 5, warmup = 1 }: MeasureOptions): Promise<SectionReport> {
  const turns = GENERATION_HELD_OUT.map(([where, text]) => ({ text, context: { ...situation(where), runnable: TASKS } }));
  const fake = await startFakeVisionServer({ models: [MODEL] });
  try {
    fake.planAlways = ANSWER;
    const rules = new BaselinePlanner();
    const settings = loadSettings({ LLM_URL: fake.url, LLM_MODEL: MODEL });
    const llm = new LlmPlanner({ settings, logger: pino({ level: 'silent' }), fallback: rules, limits: { maxImagePixels: settings.MAX_IMAGE_PIXELS } });
    const all = (planner: BaselinePlanner | LlmPlanner) => async () => {
      for (const turn of turns) await planner.plan(turn.text, turn.context);
    };
    const [r, l] = await measureInterleaved(
      [
        { label: 'rules', fn: all(rules) },
        { label: 'llm', fn: all(llm) },
      ],
      { runs, warmup },
    );
    const perTurn = (x: number) => x / turns.length;
    const schemaBytes = JSON.stringify(planAnswerSchema(TASKS, availableReferences(turns[0]!.context))).length;
    const pad = (label: string) => `  ${label.padEnd(64)}`;
    return {
      title: `Planning latency per turn (${turns.length} held-out phrasings, same run)`,
      lines: [
        `${pad('rule-based planner')} ${ms(perTurn(r!.medianMs)).padStart(10)} (min ${ms(perTurn(r!.minMs))})`,
        `${pad('LLM planner against an instant local server (our side only)')} ${ms(perTurn(l!.medianMs)).padStart(10)} (min ${ms(perTurn(l!.minMs))})`,
        `${pad('LLM planner / rule-based')} ${formatRatio(l!.medianMs / r!.medianMs).padStart(10)}; adds ${ms(perTurn(l!.medianMs - r!.medianMs))} per turn`,
        `  (the answer schema of a turn with every task: ${(schemaBytes / 1024).toFixed(1)} KiB; a real model adds its own time to think on top)`,
      ],
      goals: [],
    };
  } finally {
    await fake.close();
  }
}

export const plannerSection: BenchSection = { name: 'planner', run: runPlannerBench };
