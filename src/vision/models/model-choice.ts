import { TASKS, factsOf, type Task } from '../../core/tasks.ts';
import { CATALOG, type ModelEntry } from '../../../models/catalog.ts';

/**
 * Which catalog model serves a task: the task table names the preferred one, the catalog lists the others
 * that can; models this build has no runner for (`notRunYet`) are never chosen, installed or not.
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
