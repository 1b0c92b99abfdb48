import { factsOf, isTask } from './tasks.ts';

/**
 * What a chat user hears when nothing on this server can do a task. Chat users cannot pull models or set
 * endpoints, and a Discord channel is no place for file lists: the exact command goes to the operator
 * (the error's `details.operatorHint`, the log, `npm run models -- list`, /healthz), the chat gets this.
 */

export interface UnavailableWords {
  /** What the user wanted, after "can't": "describe pictures". */
  can: string;
  /** What the admin would turn on: "captions". */
  enable: string;
}

/** The task table's words for a task; a task name without them still reads ("do segment at"). */
export function abilityOf(task: string): UnavailableWords {
  const ability = isTask(task) ? factsOf(task).ability : undefined;
  const name = task.replaceAll('_', ' ');
  return ability ?? { can: `do ${name}`, enable: name };
}

/**
 * "This server can't describe pictures yet — ask its admin to enable captions." Without `adminCan` (no
 * setting or model would help: the code is not built yet) the user is not sent to an admin who cannot act.
 */
export function cannotYet(words: UnavailableWords, adminCan = true): string {
  const first = `This server can't ${words.can} yet`;
  return adminCan ? `${first} — ask its admin to enable ${words.enable}.` : `${first}.`;
}

/** The chat sentence for a task nothing here serves. */
export function taskUnavailableText(task: string, adminCan = true): string {
  return cannotYet(abilityOf(task), adminCan);
}
