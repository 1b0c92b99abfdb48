import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';

/**
 * A private redis-server for one test, so a test may stop and restart it without disturbing the shared
 * Redis other test files use. Configured as docs/deploy.md recommends: AOF on, noeviction.
 */
export interface RedisInstance {
  url: string;
  port: number;
  /** Graceful stop (SIGTERM: Redis writes its AOF and exits). */
  stop(): Promise<void>;
  /** Starts again on the same port and data directory; the AOF brings the keys back. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function waitForPing(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => {});
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // Not up yet.
    } finally {
      client.disconnect();
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server at ${url} did not answer`);
}

export async function startRedisInstance(): Promise<RedisInstance> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-redis-'));
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    child = spawn(
      'redis-server',
      [
        '--bind',
        '127.0.0.1',
        '--port',
        String(port),
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    const current = child;
    exited = new Promise((resolve) => current.once('exit', () => resolve()));
    await waitForPing(url);
  };
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  await start();
  return {
    url,
    port,
    start,
    stop,
    async destroy() {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
