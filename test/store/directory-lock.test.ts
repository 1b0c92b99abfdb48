import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreInUseError } from '../../src/errors.ts';
import { openDatabase } from '../../src/store/database.ts';

/** Two processes on one PGlite directory corrupt it; the second one must stop at start-up instead. */

const REPO = path.resolve(import.meta.dirname, '../..');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-lock-'));
  cleanups.push(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Another process that opens the database in `dir` and keeps it open until killed; resolves once it has. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = path.join(path.dirname(dir), `${path.basename(dir)}-holder.mts`);
  await fs.writeFile(
    script,
    `import { openDatabase } from ${JSON.stringify(path.join(REPO, 'src/store/database.ts'))};\nawait openDatabase({ PGLITE_DIR: ${JSON.stringify(dir)}, DATABASE_URL: undefined });\nprocess.stdout.write('open\\n');\nsetInterval(() => undefined, 1000);\n`,
  );
  // node itself (not the tsx wrapper, which would run it as a grandchild): the lock holds this pid.
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await fs.rm(script, { force: true });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('open') && resolve());
    child.on('exit', (code) => reject(new Error(`the holder exited with ${code}`)));
  });
  return child;
}

describe('the PGlite directory lock', () => {
  it('stops a second process on the same directory with a message that names the holder and the ways out', async () => {
    const dir = path.join(await tempDir(), 'db');
    const other = await holder(dir);
    const opening = openDatabase({ PGLITE_DIR: dir, DATABASE_URL: undefined });
    await expect(opening).rejects.toBeInstanceOf(StoreInUseError);
    await expect(opening).rejects.toThrow(`The embedded database in ${dir} is in use by process ${other.pid}.`);
    await expect(opening).rejects.toThrow(/PGLITE_DIR .*DATABASE_URL/);
  }, 60_000);

  it('takes over a lock left by a process that no longer runs, and removes its own lock on close', async () => {
    const dir = path.join(await tempDir(), 'db');
    const gone = spawn('true');
    await new Promise((resolve) => gone.on('exit', resolve));
    await fs.writeFile(`${dir}.lock`, String(gone.pid));
    const db = await openDatabase({ PGLITE_DIR: dir, DATABASE_URL: undefined });
    expect(await fs.readFile(`${dir}.lock`, 'utf8')).toBe(String(process.pid));
    await db.close();
    expect(existsSync(`${dir}.lock`)).toBe(false);
  }, 60_000);
});
