import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaClient, type Prisma } from '@prisma/client';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import type { Settings } from '../config/settings.ts';
import { StoreInUseError, StoreUnavailableError } from '../errors.ts';
import { lockDirectory } from './directory-lock.ts';
import { isConnectionError, withStoreOutages } from './connection-errors.ts';
import {
  applyMigrations,
  pgliteTarget,
  postgresTarget,
  readMigrations,
  DEFAULT_MIGRATIONS_DIR,
  type MigrationReport,
  type MigrationTarget,
} from './migrate.ts';

export interface Database {
  prisma: PrismaClient;
  kind: 'pglite' | 'postgres';
  /** What start-up did to the schema (empty lists when opened with migrate: false). */
  migrations: MigrationReport;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Apply pending migrations before returning (default true). */
  migrate?: boolean;
  migrationsDir?: string;
  /** How long to wait for a PostgreSQL connection before calling the store unavailable. */
  connectTimeoutMs?: number;
  /** Errors of idle pooled PostgreSQL connections (a server restart); they surface on the next query too. */
  onPoolError?: (error: Error) => void;
}

const NOTHING_MIGRATED: MigrationReport = { applied: [], alreadyApplied: [], unknown: [] };

/**
 * PostgreSQL when DATABASE_URL is set, otherwise embedded PGlite under PGLITE_DIR (`memory://` keeps it
 * in memory). Either way the schema is brought up to date before the first query.
 */
export async function openDatabase(settings: Pick<Settings, 'DATABASE_URL' | 'PGLITE_DIR'>, opts: OpenDatabaseOptions = {}): Promise<Database> {
  return settings.DATABASE_URL === undefined ? openPGlite(settings.PGLITE_DIR, opts) : openPostgres(settings.DATABASE_URL, opts);
}

async function openPostgres(url: string, opts: OpenDatabaseOptions): Promise<Database> {
  // Loaded only here: a bot on embedded PGlite never needs the PostgreSQL driver (≈15 MiB idle RSS).
  const [{ default: pg }, { PrismaPg }] = await Promise.all([import('pg'), import('@prisma/adapter-pg')]);
  const pool = new pg.Pool({ connectionString: url, connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000 });
  // An idle client's error is emitted on the pool; unhandled, it would crash the process.
  pool.on('error', opts.onPoolError ?? (() => undefined));
  let migrations = NOTHING_MIGRATED;
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw new StoreUnavailableError(error);
  }
  try {
    if (opts.migrate !== false) migrations = await migrate(postgresTarget(pool), opts);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw error;
  }
  const prisma = withStoreOutages(new PrismaPg(pool));
  return assemble(prisma, 'postgres', migrations, [() => prisma.$disconnect(), () => pool.end()]);
}

/**
 * PGlite's own start parameters plus a 16 MB buffer cache: the default 128 MB sits in a WebAssembly heap
 * that never shrinks (+115–150 MiB idle RSS), and the bot's tables are small (2000 upserts: no slowdown).
 * `startParams` replaces PGlite's defaults, so they are kept first.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, '-c', 'shared_buffers=16MB'];

async function openPGlite(dir: string, opts: OpenDatabaseOptions): Promise<Database> {
  const inMemory = dir.startsWith('memory://');
  let unlock: () => Promise<void> = async () => undefined;
  let db: PGlite;
  try {
    if (!inMemory) {
      await mkdir(dir, { recursive: true });
      unlock = await lockDirectory(dir);
    }
  } catch (error) {
    if (error instanceof StoreInUseError) throw error;
    throw new StoreUnavailableError(error);
  }
  try {
    const fresh = !inMemory && !existsSync(path.join(dir, 'PG_VERSION'));
    db = await PGlite.create(dir, { startParams: PGLITE_START_PARAMS });
    // initdb leaves ≈350 MiB in the instance that ran it, which nothing collects while it is open (first
    // boot 614–672 MiB RSS, 275–353 after a reopen in the same process): a new data dir is opened twice.
    if (fresh) {
      await db.close();
      db = await PGlite.create(dir, { startParams: PGLITE_START_PARAMS });
    }
  } catch (error) {
    await unlock();
    throw new StoreUnavailableError(error);
  }
  let migrations = NOTHING_MIGRATED;
  try {
    if (opts.migrate !== false) migrations = await migrate(pgliteTarget(db), opts);
  } catch (error) {
    await db.close().catch(() => undefined);
    await unlock();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: pgliteAdapter(db) });
  // PGlite must be closed after Prisma lets go, or the next process hangs on the data directory.
  return assemble(prisma, 'pglite', migrations, [() => prisma.$disconnect(), () => db.close(), unlock]);
}

/**
 * pglite-prisma-adapter 0.6.1 carries its own @prisma/driver-adapter-utils (6.10), whose types differ
 * from 6.19's only in names; the runtime protocol is the same (the tests run every query through it).
 */
export function pgliteAdapter(db: PGlite): NonNullable<Prisma.PrismaClientOptions['adapter']> {
  return new PrismaPGlite(db) as unknown as NonNullable<Prisma.PrismaClientOptions['adapter']>;
}

async function migrate(target: MigrationTarget, opts: OpenDatabaseOptions): Promise<MigrationReport> {
  try {
    return await applyMigrations(target, readMigrations(opts.migrationsDir ?? DEFAULT_MIGRATIONS_DIR));
  } catch (error) {
    if (isConnectionError(error)) throw new StoreUnavailableError(error);
    throw error;
  }
}

function assemble(prisma: PrismaClient, kind: Database['kind'], migrations: MigrationReport, closers: (() => Promise<unknown>)[]): Database {
  let closed: Promise<void> | undefined;
  return {
    prisma,
    kind,
    migrations,
    async ping() {
      try {
        await prisma.$queryRawUnsafe('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    close() {
      // Every step runs even if an earlier one fails; a second close() waits for the first.
      closed ??= (async () => {
        const failures: unknown[] = [];
        for (const step of closers) await step().catch((error: unknown) => failures.push(error));
        if (failures.length > 0) throw new AggregateError(failures, `closing the ${kind} database failed`);
      })();
      return closed;
    },
  };
}

export { isConnectionError };
