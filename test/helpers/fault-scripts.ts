/**
 * Faults a test attaches to an input: the fault thread (fault-thread.ts) looks up the SHA-256 of each
 * medium a job works on and, when a script is filed under it, misbehaves as told. Files, not environment
 * variables, so the same script reaches the bot's own threads and worker processes alike; a hash is
 * unique to the test's bytes, so tests running at the same time never see each other's scripts.
 */
import { existsSync, readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sha256Hex } from '../../src/media/blob-store.ts';

export const FAULT_SCRIPTS_DIR = path.join(os.tmpdir(), 'vitron-fault-scripts');

export type FaultScript =
  /** The inference thread dies (a native crash inside the thread): the worker process lives on. */
  | 'crash-thread'
  /** The whole process dies at once (a native crash or an OOM kill); nothing can be cleaned up. */
  | 'kill-process'
  /** The job runs, but its result is held back until the script is removed. */
  | 'hold-result';

/** Files `script` for `bytes`; returns a function that removes it again. */
export async function scriptFault(bytes: Uint8Array, script: FaultScript): Promise<() => Promise<void>> {
  const file = path.join(FAULT_SCRIPTS_DIR, sha256Hex(bytes));
  await fs.mkdir(FAULT_SCRIPTS_DIR, { recursive: true });
  await fs.writeFile(file, script);
  return () => fs.rm(file, { force: true });
}

/** The script filed under a medium's hash (read on every job, so a test may change it between runs). */
export function faultScriptFor(sha256: string): FaultScript | undefined {
  const file = path.join(FAULT_SCRIPTS_DIR, sha256);
  if (!/^[0-9a-f]{64}$/.test(sha256) || !existsSync(file)) return undefined;
  return readFileSync(file, 'utf8').trim() as FaultScript;
}
