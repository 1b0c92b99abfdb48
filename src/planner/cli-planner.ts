import 'dotenv/config';
import { loadSettings } from '../config/settings.ts';
import { TASKS } from '../core/tasks.ts';
import type { PlanContext, Planner } from '../core/types.ts';
import { createLogger } from '../log.ts';
import { createTaskReadiness } from '../vision/readiness.ts';
import { BaselinePlanner } from './baseline-planner.ts';
import { LlmPlanner } from './llm/llm-planner.ts';

export type PlannerChoice = 'rules' | 'llm';

/**
 * The planner the command-line tools use, from the same settings as `npm start` (.env): `llm` needs LLM_URL and
 * LLM_MODEL; its fallbacks and their reasons are logged on stderr, so stdout keeps only the tool's output.
 * Tasks that can run are this machine's (installed models, engines), as the bot would see them.
 */
export function cliPlanner(choice: PlannerChoice | undefined): { planner: Planner; context: (base: PlanContext) => PlanContext } {
  const settings = loadSettings();
  const wanted = choice ?? (settings.LLM_URL === undefined ? 'rules' : 'llm');
  if (wanted === 'rules') return { planner: new BaselinePlanner(), context: (base) => base };
  if (settings.LLM_URL === undefined || settings.LLM_MODEL === undefined) {
    throw new Error('--planner llm needs LLM_URL and LLM_MODEL (in .env or the environment)');
  }
  const logger = createLogger({ LOG_LEVEL: 'warn' }, { toStderr: true });
  const readiness = createTaskReadiness(settings);
  const runnable = TASKS.filter((task) => readiness.canRun(task));
  const planner = new LlmPlanner({ settings, logger, fallback: new BaselinePlanner(), limits: { maxImagePixels: settings.MAX_IMAGE_PIXELS } });
  return { planner, context: (base) => ({ ...base, runnable }) };
}

export function plannerChoice(value: string | undefined): PlannerChoice {
  if (value === 'rules' || value === 'llm') return value;
  throw new Error(`--planner expects rules or llm but received ${value === undefined ? 'nothing' : `"${value}"`}`);
}
