import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PendingStore } from '../../adapters/discord/pending-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function tmp(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pending-'));
  dirs.push(dir);
  return dir;
}

const entry = { ownerId: 'u1', channelId: 'c1', uploadLimit: 8_000_000 };

describe('Discord pending-jobs file', () => {
  it('keeps writing after one write failed, and a new process reads what was written last', async () => {
    const dir = await tmp();
    // A file where the store's directory should be: the first write cannot create it.
    const blocker = path.join(dir, 'discord');
    await fs.writeFile(blocker, 'not a directory');
    const store = new PendingStore(path.join(blocker, 'pending-jobs.json'));
    await expect(store.set('job-1', entry)).rejects.toThrow();
    await fs.rm(blocker);
    await store.set('job-2', { ...entry, ownerId: 'u2' });
    await store.settled();
    const reread = new PendingStore(path.join(blocker, 'pending-jobs.json'));
    await reread.load();
    expect(reread.get('job-2')).toEqual({ ...entry, ownerId: 'u2' });
    expect(reread.get('job-1')).toEqual(entry);
  });

  it('settles only when every write asked for has reached the disk', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'discord', 'pending-jobs.json');
    const store = new PendingStore(file);
    void store.set('a', entry);
    void store.set('b', entry);
    void store.delete('a');
    await store.settled();
    expect(JSON.parse(await fs.readFile(file, 'utf8'))).toEqual({ b: entry });
  });
});
