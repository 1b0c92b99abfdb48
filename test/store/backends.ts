import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { it } from 'vitest';
import { openDatabase, type Database } from '../../src/store/database.ts';
import { PrerequisiteMissingError, TEST_DATABASE_URL, describeMissing, missingOf, strictPrerequisites } from '../helpers/prerequisites.ts';

export { TEST_DATABASE_URL };

/**
 * The backends every store and conversation test runs on: PGlite in memory, PGlite persisted to a
 * directory, and the real PostgreSQL (a database of its own per test file, dropped afterwards).
 */

export interface Backend {
  name: string;
  open(): Promise<Database>;
  /** Removes what open() created (temp directory, database). */
  cleanup(): Promise<void>;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

export function pgliteMemoryBackend(): Backend {
  return { name: 'PGlite (memory://)', open: () => openDatabase({ PGLITE_DIR: 'memory://', DATABASE_URL: undefined }), cleanup: async () => {} };
}

export function pgliteDirBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'PGlite (directory)',
    async open() {
      dir ??= await mkdtemp(path.join(os.tmpdir(), 'vitron-pglite-'));
      return openDatabase({ PGLITE_DIR: dir, DATABASE_URL: undefined });
    },
    async cleanup() {
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh, uniquely named database on the test server; drop() removes it even with open connections. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = uniqueName('vitron_test');
  await withAdmin((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => withAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined) };
}

async function withAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export function postgresBackend(): Backend {
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  return {
    name: 'PostgreSQL',
    async open() {
      database ??= await createTestDatabase();
      return openDatabase({ DATABASE_URL: database.url, PGLITE_DIR: 'memory://' });
    },
    async cleanup() {
      await database?.drop();
    },
  };
}

/** Why PostgreSQL cannot be used, or null when it can. */
export async function postgresUnavailable(): Promise<string | null> {
  try {
    await withAdmin((client) => client.query('SELECT 1'));
    return null;
  } catch (error) {
    return error instanceof Error ? error.message || String(error) : String(error);
  }
}

/**
 * PostgreSQL is skipped, loudly, only outside strict mode (prerequisites.ts); in strict mode (CI) an
 * unreachable server fails the tests: the backend stays in the list and opening it throws what is missing.
 */
export async function availableBackends(): Promise<Backend[]> {
  const backends = [pgliteMemoryBackend(), pgliteDirBackend()];
  const missing = await missingOf('postgres');
  if (missing.length === 0) return [...backends, postgresBackend()];
  const message = describeMissing(missing);
  if (strictPrerequisites()) {
    const fail = async (): Promise<never> => {
      throw new PrerequisiteMissingError(`${message} (VITRON_REQUIRE_PREREQUISITES is on: CI must run these tests)`);
    };
    return [...backends, { name: 'PostgreSQL', open: fail, cleanup: async () => {} }];
  }
  it.skip(`PostgreSQL tests (skipped: ${message})`);
  console.warn(`[vitron-chat tests] skipping the PostgreSQL tests: ${message}`);
  return backends;
}
