import { SHARED_ARGUMENTS } from '../../core/tasks.ts';
import { InvalidArgumentError } from '../../errors.ts';

/**
 * Argument checks shared by the sharp specialists. Messages follow one shape: the argument, what was
 * expected, what arrived; planners pass numbers as strings at times, so numeric strings are accepted.
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

export function optionalFlag(args: Record<string, unknown>, name: string): boolean {
  const value = args[name];
  if (value === undefined || value === null || value === false || value === 'false') return false;
  if (value === true || value === 'true') return true;
  throw new InvalidArgumentError(`Expected true or false for ${name} but received ${describeValue(value)}.`, { arg: name });
}

export function optionalChoice<T extends string>(args: Record<string, unknown>, name: string, choices: readonly T[]): T | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && (choices as readonly string[]).includes(value.trim().toLowerCase())) return value.trim().toLowerCase() as T;
  throw new InvalidArgumentError(`Expected one of ${choices.join(', ')} for ${name} but received ${describeValue(value)}.`, { arg: name });
}

/** The shared planner arguments (phrase, prompt, question) are always allowed; anything else must be known. */
export function rejectUnknown(args: Record<string, unknown>, known: readonly string[], task: string): void {
  const unknown = Object.keys(args).filter((k) => !known.includes(k) && !(k in SHARED_ARGUMENTS) && args[k] !== undefined);
  if (unknown.length > 0) {
    throw new InvalidArgumentError(`${task} does not take ${unknown.join(', ')}; it takes ${known.join(', ')}.`, { args: unknown });
  }
}
