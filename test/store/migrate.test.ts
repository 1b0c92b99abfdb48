import { cp, mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { InternalError, StoreUnavailableError } from '../../src/errors.ts';
import { openDatabase } from '../../src/store/database.ts';
import { applyMigrations, checksumOf, DEFAULT_MIGRATIONS_DIR, pgliteTarget, postgresTarget, readMigrations } from '../../src/store/migrate.ts';
import { UserRepository } from '../../src/store/user-repository.ts';
import { requires } from '../helpers/prerequisites.ts';
import { createTestDatabase, TEST_DATABASE_URL, uniqueName } from './backends.ts';

const shipped = readMigrations();
const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('migration files', () => {
  it('are found in order with their checksums, which ignore line endings', () => {
    expect(shipped.map((m) => m.name)[0]).toBe('0001_init');
    expect(shipped.map((m) => m.name)).toEqual([...shipped.map((m) => m.name)].sort());
    expect(checksumOf('a;\r\nb;\r\n')).toBe(checksumOf('a;\nb;\n'));
    expect(checksumOf('a;\n')).not.toBe(checksumOf('b;\n'));
  });
});

describe('PGlite persisted to a directory', () => {
  it('keeps its data across close and reopen, and applies migrations only once', async () => {
    const dir = await tempDir('vitron-pglite-reopen-');
    const first = await openDatabase({ PGLITE_DIR: dir, DATABASE_URL: undefined });
    expect(first.kind).toBe('pglite');
    expect(first.migrations.applied).toEqual(shipped.map((m) => m.name));
    const user = await new UserRepository(first.prisma).getOrCreate({ platform: 'web', externalId: 'survivor', displayName: 'Sam' });
    await first.close();

    const second = await openDatabase({ PGLITE_DIR: dir, DATABASE_URL: undefined });
    try {
      expect(second.migrations).toEqual({ applied: [], alreadyApplied: shipped.map((m) => m.name), unknown: [] });
      expect(await new UserRepository(second.prisma).get(user.id)).toEqual(user);
      expect(await second.ping()).toBe(true);
    } finally {
      await second.close();
    }
    expect(await second.ping()).toBe(false);
  });
});

describe('applyMigrations', () => {
  it('applies only new migrations and refuses an applied one that was edited', async () => {
    const dir = await tempDir('vitron-migrations-');
    await cp(DEFAULT_MIGRATIONS_DIR, dir, { recursive: true });
    const db = await PGlite.create('memory://');
    cleanups.push(() => db.close());
    const shippedNames = readMigrations(dir).map((m) => m.name);
    expect(shippedNames[0]).toBe('0001_init');
    expect((await applyMigrations(pgliteTarget(db), readMigrations(dir))).applied).toEqual(shippedNames);

    await mkdir(path.join(dir, '9999_add_note'));
    await writeFile(
      path.join(dir, '9999_add_note', 'migration.sql'),
      'ALTER TABLE "users" ADD COLUMN "note" TEXT;\nCREATE INDEX "users_note_idx" ON "users"("note");\n',
    );
    expect(await applyMigrations(pgliteTarget(db), readMigrations(dir))).toEqual({ applied: ['9999_add_note'], alreadyApplied: shippedNames, unknown: [] });

    const init = path.join(dir, '0001_init', 'migration.sql');
    await writeFile(init, `${await readFile(init, 'utf8')}\n-- an innocent-looking edit\n`);
    const edited = applyMigrations(pgliteTarget(db), readMigrations(dir));
    await expect(edited).rejects.toBeInstanceOf(InternalError);
    await expect(edited).rejects.toThrow(/Migration 0001_init was changed after it was applied/);
  });

  it('rolls back a migration that fails, recording nothing', async () => {
    const dir = await tempDir('vitron-migrations-bad-');
    await mkdir(path.join(dir, '0001_bad'));
    await writeFile(path.join(dir, '0001_bad', 'migration.sql'), 'CREATE TABLE "half" (id int);\nSELECT * FROM "no_such_table";\n');
    const db = await PGlite.create('memory://');
    cleanups.push(() => db.close());
    await expect(applyMigrations(pgliteTarget(db), readMigrations(dir))).rejects.toThrow(/no_such_table/);
    const tables = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name IN ('half', '_vitron_migrations')`);
    expect(tables.rows[0]?.n).toBe(0);
  });
});

(await requires('postgres')).describe('PostgreSQL', () => {
  it('applies migrations once when two processes start together', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const pools = [new pg.Pool({ connectionString: database.url }), new pg.Pool({ connectionString: database.url })];
    cleanups.push(() => Promise.all(pools.map((pool) => pool.end())));
    const reports = await Promise.all(pools.map((pool) => applyMigrations(postgresTarget(pool), shipped)));
    expect(reports.map((r) => r.applied.length).sort()).toEqual([0, shipped.length]);
    const recorded = await pools[0]!.query('SELECT name FROM _vitron_migrations ORDER BY name');
    expect(recorded.rows.map((r: { name: string }) => r.name)).toEqual(shipped.map((m) => m.name));
  });

  it('opens through openDatabase, migrated, and reopens without migrating again', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const settings = { DATABASE_URL: database.url, PGLITE_DIR: 'memory://' };
    const first = await openDatabase(settings);
    expect(first.kind).toBe('postgres');
    expect(first.migrations.applied).toEqual(shipped.map((m) => m.name));
    await first.close();
    const second = await openDatabase(settings);
    try {
      expect(second.migrations.applied).toEqual([]);
      expect(await second.ping()).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('reports an unreachable server as StoreUnavailableError', async () => {
    const url = new URL(TEST_DATABASE_URL);
    url.port = '1';
    url.pathname = `/${uniqueName('absent')}`;
    await expect(openDatabase({ DATABASE_URL: url.toString(), PGLITE_DIR: 'memory://' }, { connectTimeoutMs: 2_000 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
  });
});
