import { SHARED_ARGUMENTS, TASK_TABLE, argSpec, type ArgSpec, type Task } from '../../core/tasks.ts';
import { InternalError, InvalidArgumentError } from '../../errors.ts';

/**
 * Argument checks for every specialist. The names, types and ranges are the task table's (src/core/tasks.ts);
 * the `*Arg(task, args, name)` readers look them up there, so a range is written once. Messages follow one
 * shape: the argument, what was expected, what arrived; planners pass numbers as strings at times, so
 * numeric strings are accepted.
 */

export function describeValue(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}

export function optionalNumber(args: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n < min || n > max) {
    throw new InvalidArgumentError(`Expected a number from ${min} to ${max} for ${name} but received ${describeValue(value)}.`, { arg: name });
  }
  return n;
}

function optionalFlag(args: Record<string, unknown>, name: string): boolean {
  const value = args[name];
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new InvalidArgumentError(`Expected true or false for ${name} but received ${describeValue(value)}.`, { arg: name });
}

function optionalChoice<T extends string>(args: Record<string, unknown>, name: string, choices: readonly T[]): T | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value.trim().toLowerCase())) return value.trim().toLowerCase() as T;
  throw new InvalidArgumentError(`Expected one of ${choices.join(', ')} for ${name} but received ${describeValue(value)}.`, { arg: name });
}

/** [x1, y1, x2, y2] in pixels of the picture. */
export type BoxArg = [number, number, number, number];

function numberOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

/** A box argument as [x1, y1, x2, y2], corners put in order; `example` shows the user how to say one. */
export function optionalBox(value: unknown, example: string): BoxArg | undefined {
  if (value === undefined || value === null) return undefined;
  const box = Array.isArray(value) && value.length === 4 ? value.map(numberOf) : [];
  if (box.length !== 4 || box.some((v) => v === undefined)) {
    throw new InvalidArgumentError(`Expected a box as [x1, y1, x2, y2] in pixels but received ${describeValue(value)}; for example "${example}".`, {
      arg: 'box',
    });
  }
  const [x1, y1, x2, y2] = box as BoxArg;
  return [Math.min(x1, x2), Math.min(y1, y2), Math.max(x1, x2), Math.max(y1, y2)];
}

/** The box clipped to a picture of width × height; an InvalidArgumentError when nothing of it is left. */
export function boxInPicture(box: BoxArg, width: number, height: number): BoxArg {
  const clipped: BoxArg = [Math.max(0, box[0]), Math.max(0, box[1]), Math.min(width, box[2]), Math.min(height, box[3])];
  if (clipped[2] - clipped[0] < 1 || clipped[3] - clipped[1] < 1) {
    throw new InvalidArgumentError(`The box [${box.join(', ')}] does not cover any of the picture, which is ${width}×${height} pixels.`, { arg: 'box' });
  }
  return clipped;
}

/** The shared planner arguments (phrase, prompt, question) are always allowed; anything else must be known. */
function rejectUnknown(args: Record<string, unknown>, known: readonly string[], task: string): void {
  const unknown = Object.keys(args).filter((k) => !known.includes(k) && !(k in SHARED_ARGUMENTS) && args[k] !== undefined);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`${task} does not take ${unknown.join(', ')}; it takes ${known.join(', ')}.`, { args: unknown });
  }
}

type Row<T extends Task> = (typeof TASK_TABLE)[T];
/** The argument names of a task, as its row of the task table lists them. */
export type ArgName<T extends Task> = keyof Row<T>['args'] & string;
type ChoiceOf<T extends Task, N extends ArgName<T>> = Row<T>['args'][N] extends { choices: readonly (infer C extends string)[] } ? C : never;

/** The task's own row must describe the argument as this kind; anything else is a bug in the specialist. */
function specOf<K extends ArgSpec['kind']>(task: Task, name: string, kind: K): Extract<ArgSpec, { kind: K }> {
  const spec = argSpec(task, name);
  if (spec?.kind !== kind) throw new InternalError(`The task table has no ${kind} argument "${name}" for ${task}.`);
  return spec as Extract<ArgSpec, { kind: K }>;
}

/** Refuses argument names the task's row does not list (the shared planner arguments are always allowed). */
export function checkArgs(task: Task, args: Record<string, unknown>): void {
  rejectUnknown(args, Object.keys(TASK_TABLE[task].args), task);
}

/** A number argument, in the range its row gives. */
export function numberArg<T extends Task>(task: T, args: Record<string, unknown>, name: ArgName<T>): number | undefined {
  const spec = specOf(task, name, 'number');
  return optionalNumber(args, name, spec.min, spec.max);
}

/** A seconds argument as a number in its row's range. */
export function secondsNumberArg<T extends Task>(task: T, args: Record<string, unknown>, name: ArgName<T>): number | undefined {
  const spec = specOf(task, name, 'seconds');
  return optionalNumber(args, name, spec.min, spec.max);
}

export function flagArg<T extends Task>(task: T, args: Record<string, unknown>, name: ArgName<T>): boolean {
  specOf(task, name, 'flag');
  return optionalFlag(args, name);
}

/** One of the choices its row lists, lower-cased. */
export function choiceArg<T extends Task, N extends ArgName<T>>(task: T, args: Record<string, unknown>, name: N): ChoiceOf<T, N> | undefined {
  const spec = specOf(task, name, 'choice');
  return optionalChoice(args, name, spec.choices) as ChoiceOf<T, N> | undefined;
}
