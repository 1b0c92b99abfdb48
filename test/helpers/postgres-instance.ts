/**
 * A private PostgreSQL server for one test, so a test may stop and restart it: the shared test server
 * (TEST_DATABASE_URL) serves other test files at the same time and must stay up. It needs the server
 * binaries on this machine (Debian's postgresql package, as .ci/run expects); tests gate on
 * `requires('postgres-server-binaries')` (prerequisites.ts): skipped without them, except in CI, where that fails.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

const exec = promisify(execFile);

/** The directory holding initdb, pg_ctl and postgres: from PATH, else the newest /usr/lib/postgresql/<v>/bin. */
function findPostgresBin(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'initdb')) && existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions.at(-1);
  return newest === undefined ? undefined : path.join(root, newest, 'bin');
}

export const POSTGRES_BIN = findPostgresBin();

export interface PostgresInstance {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops the server: 'fast' is a clean shutdown, 'immediate' is what a crash or a kill -9 looks like to clients. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Starts the server again (on the same port); does nothing while it runs. */
  start(): Promise<void>;
  restart(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Stops the server if it runs and deletes its data directory. */
  destroy(): Promise<void>;
}

/** PostgreSQL refuses to run as root; as root the binaries run as the postgres user, as anyone else directly. */
function asServerUser(bin: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
}

async function run(bin: string, args: string[]): Promise<void> {
  const [file, argv] = asServerUser(bin, args);
  try {
    await exec(file, argv, { timeout: 120_000 });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${path.basename(bin)} ${args.join(' ')} failed: ${(stderr || stdout || String(error)).trim()}`);
  }
}

/** initdb's a fresh cluster in a temp directory and starts it on a free port of 127.0.0.1. */
export async function startPostgresInstance(): Promise<PostgresInstance> {
  const bin = POSTGRES_BIN;
  if (!bin) throw new Error('PostgreSQL server binaries were not found (see POSTGRES_BIN)');
  // Short path: the server's Unix socket lives in it and socket paths are limited to ~100 bytes.
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pg-'));
  try {
    if (process.getuid?.() === 0) await exec('chown', ['postgres:postgres', dataDir]);
    await run(path.join(bin, 'initdb'), ['-D', dataDir, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--no-sync']);
  } catch (error) {
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  let port = 0;
  let running = false;
  const pgCtl = path.join(bin, 'pg_ctl');
  const start = async () => {
    if (running) return;
    // A port is picked anew only if none was ever bound: clients must find the restarted server where they left it.
    if (port === 0) port = await freePort();
    // fsync=off only skips flushing the OS cache, which a server crash (not a machine crash) never loses.
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dataDir} -c fsync=off`;
    const log = path.join(dataDir, 'server.log');
    try {
      await run(pgCtl, ['-D', dataDir, '-l', log, '-o', options, '-w', '-t', '120', 'start']);
    } catch (error) {
      const tail = (await fs.readFile(log, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n');
      throw new Error(`${(error as Error).message}\nserver.log:\n${tail}`);
    }
    running = true;
  };
  const stop = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (!running) return;
    await run(pgCtl, ['-D', dataDir, '-m', mode, '-w', '-t', '120', 'stop']);
    running = false;
  };

  // A test process that ends without destroy() (a crash, an unhandled error) must not leave a server behind.
  const leftBehind = () => {
    if (running) {
      const [file, argv] = asServerUser(pgCtl, ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      try {
        execFileSync(file, argv, { stdio: 'ignore', timeout: 60_000 });
      } catch {
        // Nothing more can be done while exiting.
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', leftBehind);

  try {
    await start();
  } catch (error) {
    process.removeListener('exit', leftBehind);
    await fs.rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  return {
    get url() {
      return `postgres://postgres@127.0.0.1:${port}/postgres`;
    },
    get port() {
      return port;
    },
    dataDir,
    stop,
    start,
    async restart(mode = 'fast') {
      await stop(mode);
      await start();
    },
    async destroy() {
      try {
        await stop('immediate');
      } finally {
        process.removeListener('exit', leftBehind);
        await fs.rm(dataDir, { recursive: true, force: true });
      }
    },
  };
}
