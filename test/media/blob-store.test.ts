import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, MediaNotFoundError } from '../../src/errors.ts';
import { LocalBlobStore, isSha256 } from '../../src/media/blob-store.ts';
import { makeTempDir } from '../helpers/media-fixtures.ts';

describe('LocalBlobStore', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let store: LocalBlobStore;

  beforeEach(async () => {
    ({ dir, cleanup } = await makeTempDir('vitron-blobs-'));
    store = new LocalBlobStore(path.join(dir, 'media'));
  });
  afterEach(() => cleanup());

  it('stores bytes under their SHA-256 in a sharded path and reads them back', async () => {
    const data = Buffer.from('hello media');
    const sha256 = createHash('sha256').update(data).digest('hex');
    expect(await store.put(data)).toEqual({ sha256, bytes: data.length });
    expect(await store.has(sha256)).toBe(true);
    expect(await store.get(sha256)).toEqual(data);
    const local = await store.localPath(sha256);
    expect(local).toBe(path.join(dir, 'media', sha256.slice(0, 2), sha256.slice(2, 4), sha256));
    expect(await fs.readFile(local)).toEqual(data);
  });

  it('is idempotent: the same bytes twice are one file, and no temp files are left behind', async () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    const [a, b] = await Promise.all([store.put(data), store.put(data)]);
    const c = await store.put(data);
    expect(a).toEqual(b);
    expect(c).toEqual(a);
    const shard = path.dirname(await store.localPath(a.sha256));
    expect(await fs.readdir(shard)).toEqual([a.sha256]);
  });

  it('stores an empty blob like any other', async () => {
    const { sha256, bytes } = await store.put(new Uint8Array());
    expect(bytes).toBe(0);
    expect((await store.get(sha256)).length).toBe(0);
  });

  it('throws MediaNotFoundError for a well-formed hash that is not stored', async () => {
    const missing = 'a'.repeat(64);
    expect(await store.has(missing)).toBe(false);
    await expect(store.get(missing)).rejects.toBeInstanceOf(MediaNotFoundError);
    await expect(store.localPath(missing)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });

  it.each([
    ['a path', '../../etc/passwd'],
    ['an absolute path', '/etc/passwd'],
    ['upper-case hex', 'A'.repeat(64)],
    ['a short hash', 'ab'.repeat(10)],
    ['a hash with a suffix', `${'a'.repeat(64)}/x`],
    ['a hash with a newline', `${'a'.repeat(64)}\n`],
  ])('refuses %s where a hash belongs, before touching the disk', async (_label, value) => {
    expect(isSha256(value)).toBe(false);
    await expect(store.get(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.localPath(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.has(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(store.delete(value)).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('deletes blobs, and deleting twice is fine', async () => {
    const { sha256 } = await store.put(Buffer.from('bye'));
    await store.delete(sha256);
    await store.delete(sha256);
    expect(await store.has(sha256)).toBe(false);
  });
});
