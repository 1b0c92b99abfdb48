import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * `npm start` runs the JavaScript that `npm run build` writes to dist/, with no TypeScript loader: the thread entries,
 * the files read beside the code (migrations, pages, WebAssembly) and a job on an inference thread must all work from there.
 */
describe('the build that npm start runs', () => {
  let child: ChildProcess | undefined;
  let dataDir: string;
  let url: string;

  beforeAll(async () => {
    await exec('npm', ['run', '-s', 'build'], { cwd: ROOT });
    dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-built-'));
    const env = { ...process.env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', REDIS_URL: '', DATABASE_URL: '', DISCORD_TOKEN: '', SLACK_BOT_TOKEN: '' };
    child = spawn(process.execPath, ['dist/src/main.js'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString('utf8');
        const match = /vitron-chat playground: (\S+)/.exec(output);
        if (match) resolve(match[1]!);
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', onData);
      child!.once('exit', (code) => reject(new Error(`dist/src/main.js exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
    });
  }, 240_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await fs.rm(dataDir, { recursive: true, force: true });
  });

  it('holds no TypeScript: every relative import was rewritten to the .js beside it', async () => {
    const main = await fs.readFile(path.join(ROOT, 'dist/src/main.js'), 'utf8');
    expect(main).not.toMatch(/from ["']\.{1,2}\/[^"']*\.ts["']/);
    expect(main).toMatch(/from ["']\.\/[^"']*\.js["']/);
  });

  it('answers a turn with a job run on an inference thread started from the built entry', { timeout: 120_000 }, async () => {
    let cookie = '';
    const call = async (route: string, init: RequestInit = {}) => {
      const response = await fetch(`${url}${route}`, { ...init, headers: { ...(init.headers ?? {}), cookie } });
      cookie = response.headers.get('set-cookie')?.split(';')[0] ?? cookie;
      expect(response.ok, `${route}: ${response.status}`).toBe(true);
      return response.json() as Promise<Record<string, unknown>>;
    };
    const conversation = (await call('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })) as { id: string };
    const form = new FormData();
    form.set('text', 'make it black and white');
    const red = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c03020' } })
      .png()
      .toBuffer();
    form.set('file', new Blob([new Uint8Array(red)], { type: 'image/png' }), 'red.png');
    const turn = (await call(`/api/conversations/${conversation.id}/turns`, { method: 'POST', body: form })) as { job?: { id: string } };
    expect(turn.job).toBeDefined();
    for (;;) {
      const job = (await call(`/api/jobs/${turn.job!.id}`)) as { state: string; error?: { message?: string } };
      if (job.state === 'succeeded') break;
      expect(['queued', 'running'], job.error?.message).toContain(job.state);
      await sleep(100);
    }
  });
});
