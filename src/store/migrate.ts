import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite, Transaction as PGliteTransaction } from '@electric-sql/pglite';
import type pg from 'pg';
import { InternalError } from '../errors.ts';

/**
 * Applies prisma/migrations/<nnnn_name>/migration.sql at start-up, the same files on PGlite and on
 * PostgreSQL. We do it ourselves because `prisma migrate deploy` needs the native schema engine and
 * `prisma db push` is broken with driver adapters. Each applied file is recorded with its sha256 so that
 * an edited, already-applied migration stops the start instead of silently diverging.
 */

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../prisma/migrations/', import.meta.url));

const TABLE = '_vitron_migrations';
// Any fixed 64-bit number works; it only has to be the same in every process of this app.
const ADVISORY_LOCK_KEY = '7421136603559204871';

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationReport {
  applied: string[];
  alreadyApplied: string[];
  /** Recorded in the database but absent here: the database was migrated by newer code. */
  unknown: string[];
}

/** One connection, inside one transaction. */
export interface MigrationSession {
  /** Runs a script that may hold several statements. */
  exec(sql: string): Promise<void>;
  query<R>(sql: string, params?: unknown[]): Promise<R[]>;
}

export interface MigrationTarget {
  inTransaction<T>(fn: (session: MigrationSession) => Promise<T>): Promise<T>;
}

export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(dir, entry.name, 'migration.sql')))
    .map((entry) => entry.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksumOf(sql) };
    });
}

/** Line endings are normalised so that a checkout with CRLF does not look like an edited migration. */
export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n')).digest('hex');
}

export async function applyMigrations(target: MigrationTarget, migrations: readonly MigrationFile[]): Promise<MigrationReport> {
  return target.inTransaction(async (session) => {
    // Taken before anything else, so that a second process starting at the same moment waits here
    // and then finds everything applied. Released by the commit.
    await session.query(`SELECT pg_advisory_xact_lock(${ADVISORY_LOCK_KEY})`);
    await session.exec(`CREATE TABLE IF NOT EXISTS "${TABLE}" (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const rows = await session.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "${TABLE}" ORDER BY name`);
    const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
    const report: MigrationReport = { applied: [], alreadyApplied: [], unknown: [] };
    for (const migration of migrations) {
      const checksum = recorded.get(migration.name);
      if (checksum === undefined) {
        await session.exec(migration.sql);
        await session.query(`INSERT INTO "${TABLE}" (name, checksum) VALUES ($1, $2)`, [migration.name, migration.checksum]);
        report.applied.push(migration.name);
      } else if (checksum !== migration.checksum) {
        throw new InternalError(
          `Migration ${migration.name} was changed after it was applied to this database (recorded sha256 ${checksum.slice(0, 12)}…, ` +
            `file ${migration.checksum.slice(0, 12)}…). Restore the file and put the change in a new migration (npm run db:migration -- <name>).`,
        );
      } else {
        report.alreadyApplied.push(migration.name);
      }
    }
    const known = new Set(migrations.map((m) => m.name));
    report.unknown = [...recorded.keys()].filter((name) => !known.has(name));
    return report;
  });
}

export function postgresTarget(pool: pg.Pool): MigrationTarget {
  return {
    async inTransaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const session: MigrationSession = {
          // Without parameters pg uses the simple query protocol, which accepts several statements.
          exec: async (sql) => void (await client.query(sql)),
          query: async <R>(sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as R[],
        };
        const result = await fn(session);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

export function pgliteTarget(db: PGlite): MigrationTarget {
  return {
    inTransaction: (fn) =>
      db.transaction((tx: PGliteTransaction) =>
        fn({
          exec: async (sql) => void (await tx.exec(sql)),
          query: async <R>(sql: string, params?: unknown[]) => (await tx.query<R>(sql, params)).rows,
        }),
      ),
  };
}
