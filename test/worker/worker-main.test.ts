import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { warnUnlessNoEviction } from '../../src/queue/redis-setup.ts';

function runWorker(env: Record<string, string | undefined>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    env: { ...process.env, REDIS_URL: undefined, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

/** A Redis stand-in that answers CONFIG GET the way a server would. */
function redisAnswering(reply: unknown): Redis {
  return { config: async () => (reply instanceof Error ? Promise.reject(reply) : reply) } as unknown as Redis;
}

function recordingLogger() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { logger, lines };
}

describe('npm run worker', () => {
  it('stops with one line when REDIS_URL is missing', async () => {
    const { code, stderr } = await runWorker({});
    expect(code).toBe(1);
    expect(stderr).toBe('Setting REDIS_URL: expected a URL starting with redis:// or rediss:// (a worker takes its jobs from Redis), received nothing\n');
  });

  it('stops with one line on a wrong setting', async () => {
    const { code, stderr } = await runWorker({ REDIS_URL: 'redis://127.0.0.1:6379', WORKER_CONCURRENCY: 'many' });
    expect(code).toBe(1);
    expect(stderr).toBe('Setting WORKER_CONCURRENCY: expected an integer from 0 to 64, received "many"\n');
  });
});

describe('Redis eviction check', () => {
  it('says nothing when Redis never evicts', async () => {
    const { logger, lines } = recordingLogger();
    await warnUnlessNoEviction(redisAnswering(['maxmemory-policy', 'noeviction']), logger);
    expect(lines).toEqual([]);
  });

  it('warns in one line when Redis may evict queued jobs', async () => {
    const { logger, lines } = recordingLogger();
    await warnUnlessNoEviction(redisAnswering(['maxmemory-policy', 'allkeys-lru']), logger);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ policy: 'allkeys-lru' });
    expect(String(lines[0]!.msg)).toMatch(/noeviction/);
  });

  it('warns when it cannot read the policy (managed Redis refusing CONFIG)', async () => {
    const { logger, lines } = recordingLogger();
    await warnUnlessNoEviction(redisAnswering(new Error('ERR unknown command CONFIG')), logger);
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.msg)).toMatch(/noeviction/);
  });
});
