import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { InvalidArgumentError, MediaNotFoundError, SettingsError, VitronError } from '../../src/errors.ts';
import { LocalBlobStore } from '../../src/media/blob-store.ts';
import type { BlobStore } from '../../src/media/blob-store.ts';
import { createBlobStore } from '../../src/media/blob-store-from-settings.ts';
import { S3BlobStore } from '../../src/media/s3-blob-store.ts';
import { makeTempDir } from '../helpers/media-fixtures.ts';
import { S3RVER_CREDENTIALS, startLocalS3, type LocalS3 } from '../helpers/s3-server.ts';

const BUCKET = 'vitron-test';
const CREDENTIALS = S3RVER_CREDENTIALS;

let server: LocalS3;
let endpoint: string;

beforeAll(async () => {
  server = await startLocalS3(BUCKET);
  endpoint = server.endpoint;
});

afterAll(async () => {
  await server?.close();
});

function s3Client(overrides: { endpoint?: string; maxAttempts?: number } = {}): S3Client {
  return new S3Client({
    endpoint: overrides.endpoint ?? endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: CREDENTIALS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(overrides.maxAttempts === undefined ? {} : { maxAttempts: overrides.maxAttempts }),
  });
}

/** Counts the commands a client sends (once per call, before retries), by command name. */
function countCommands(client: S3Client): Map<string, number> {
  const counts = new Map<string, number>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? 'unknown';
      counts.set(name, (counts.get(name) ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return counts;
}

const total = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

interface Harness {
  store: BlobStore;
  /** Requests sent to the backend so far; undefined for a backend without requests (the local disk). */
  requests(): number | undefined;
  uploads(): number | undefined;
  close(): Promise<void>;
}

/** Each S3 store gets its own prefix and cache, so tests share one server yet never see each other's blobs. */
async function makeS3Store(): Promise<{ store: S3BlobStore; counts: Map<string, number>; cacheDir: string; close(): Promise<void> }> {
  const client = s3Client();
  const counts = countCommands(client);
  const temp = await makeTempDir('vitron-s3-cache-');
  const cacheDir = path.join(temp.dir, 'cache');
  const store = new S3BlobStore({ client, bucket: BUCKET, prefix: `t-${randomUUID()}/`, cacheDir });
  return {
    store,
    counts,
    cacheDir,
    close: async () => {
      store.close();
      await temp.cleanup();
    },
  };
}

const backends: { name: string; make: () => Promise<Harness> }[] = [
  {
    name: 'LocalBlobStore',
    make: async () => {
      const temp = await makeTempDir('vitron-blobs-');
      return { store: new LocalBlobStore(path.join(temp.dir, 'media')), requests: () => undefined, uploads: () => undefined, close: temp.cleanup };
    },
  },
  {
    name: 'S3BlobStore',
    make: async () => {
      const { store, counts, close } = await makeS3Store();
      return { store, requests: () => total(counts), uploads: () => counts.get('PutObjectCommand') ?? 0, close };
    },
  },
];

describe.each(backends)('$name keeps the BlobStore contract', ({ make }) => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('stores bytes under their SHA-256 and reads them back', async () => {
    h = await make();
    const data = Buffer.from('hello media');
    expect(await h.store.put(data)).toEqual({ sha256: sha(data), bytes: data.length });
    expect(await h.store.has(sha(data))).toBe(true);
    expect(await h.store.get(sha(data))).toEqual(data);
  });

  it('stores the same bytes once: a second put is a no-op with the same answer', async () => {
    h = await make();
    const data = new Uint8Array([1, 2, 3, 4]);
    const first = await h.store.put(data);
    const second = await h.store.put(data);
    expect(second).toEqual(first);
    const uploads = h.uploads();
    if (uploads !== undefined) expect(uploads).toBe(1);
    expect(await h.store.get(first.sha256)).toEqual(Buffer.from(data));
  });

  it('stores an empty blob like any other', async () => {
    h = await make();
    const { sha256, bytes } = await h.store.put(new Uint8Array());
    expect(bytes).toBe(0);
    expect((await h.store.get(sha256)).length).toBe(0);
    expect((await fs.readFile(await h.store.localPath(sha256))).length).toBe(0);
  });

  it('gives a local file holding the same bytes', async () => {
    h = await make();
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    const { sha256 } = await h.store.put(data);
    const file = await h.store.localPath(sha256);
    expect(path.isAbsolute(file)).toBe(true);
    // Buffer.equals, not toEqual: vitest compares large buffers element by element, which takes seconds.
    expect((await fs.readFile(file)).equals(data)).toBe(true);
    expect(await h.store.localPath(sha256)).toBe(file);
  });

  it('answers MediaNotFoundError for a well-formed hash that is not stored', async () => {
    h = await make();
    const missing = 'a'.repeat(64);
    expect(await h.store.has(missing)).toBe(false);
    await expect(h.store.get(missing)).rejects.toBeInstanceOf(MediaNotFoundError);
    await expect(h.store.localPath(missing)).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND', sha256: missing });
  });

  it.each([
    ['a path', '../../etc/passwd'],
    ['an absolute path', '/etc/passwd'],
    ['upper-case hex', 'A'.repeat(64)],
    ['a short hash', 'ab'.repeat(10)],
    ['a hash with a suffix', `${'a'.repeat(64)}/x`],
    ['a hash with a newline', `${'a'.repeat(64)}\n`],
  ])('refuses %s where a hash belongs, before any request', async (_label, value) => {
    h = await make();
    await expect(h.store.get(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(h.store.has(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(h.store.localPath(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(h.store.delete!(value)).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(h.requests() ?? 0).toBe(0);
  });

  it('deletes blobs, and deleting twice is fine', async () => {
    h = await make();
    const { sha256 } = await h.store.put(Buffer.from('bye'));
    await h.store.delete!(sha256);
    await h.store.delete!(sha256);
    expect(await h.store.has(sha256)).toBe(false);
    await expect(h.store.get(sha256)).rejects.toBeInstanceOf(MediaNotFoundError);
  });
});

describe('S3BlobStore', () => {
  let s: Awaited<ReturnType<typeof makeS3Store>>;
  afterEach(async () => {
    await s.close();
  });

  async function filesUnder(dir: string): Promise<string[]> {
    try {
      return (await fs.readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
    } catch {
      return [];
    }
  }

  it('keeps each blob at prefix + sha256 in the bucket', async () => {
    s = await makeS3Store();
    const data = Buffer.from('where does it live');
    await s.store.put(data);
    const raw = s3Client();
    const object = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${s.store.prefix}${sha(data)}` }));
    expect(Buffer.from(await object.Body!.transformToByteArray())).toEqual(data);
    raw.destroy();
  });

  it('checks for the object before uploading, so a second put sends no body', async () => {
    s = await makeS3Store();
    const data = Buffer.from('x'.repeat(10_000));
    await s.store.put(data);
    await s.store.put(data);
    expect(s.counts.get('HeadObjectCommand')).toBe(2);
    expect(s.counts.get('PutObjectCommand')).toBe(1);
  });

  it('downloads once for two concurrent localPath calls, then serves the cached copy', async () => {
    s = await makeS3Store();
    const data = Buffer.from(Array.from({ length: 1_000_000 }, (_, i) => i % 251));
    const { sha256 } = await s.store.put(data);
    const [a, b] = await Promise.all([s.store.localPath(sha256), s.store.localPath(sha256)]);
    expect(a).toBe(b);
    expect(a.startsWith(s.cacheDir + path.sep)).toBe(true);
    expect((await fs.readFile(a)).equals(data)).toBe(true);
    await s.store.localPath(sha256);
    expect(s.counts.get('GetObjectCommand')).toBe(1);
    expect(await filesUnder(s.cacheDir)).toEqual([sha256]);
  });

  it('downloads again when the cached copy was removed', async () => {
    s = await makeS3Store();
    const { sha256 } = await s.store.put(Buffer.from('cache me'));
    const file = await s.store.localPath(sha256);
    await fs.rm(file);
    expect(await s.store.localPath(sha256)).toBe(file);
    expect(s.counts.get('GetObjectCommand')).toBe(2);
  });

  it('fails concurrent localPath calls for a missing blob together, and succeeds once it is uploaded', async () => {
    s = await makeS3Store();
    const data = Buffer.from('arrives late');
    const results = await Promise.allSettled([s.store.localPath(sha(data)), s.store.localPath(sha(data))]);
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof MediaNotFoundError)).toEqual([true, true]);
    expect(s.counts.get('GetObjectCommand')).toBe(1);
    expect(await filesUnder(s.cacheDir)).toEqual([]);
    await s.store.put(data);
    expect(await fs.readFile(await s.store.localPath(sha(data)))).toEqual(data);
  });

  it('shares media between two stores on different machines (separate caches, one bucket)', async () => {
    s = await makeS3Store();
    const other = new S3BlobStore({ client: s3Client(), bucket: BUCKET, prefix: s.store.prefix, cacheDir: path.join(s.cacheDir, '..', 'other') });
    try {
      const data = Buffer.from('made by the worker');
      const { sha256 } = await other.put(data);
      expect(await s.store.has(sha256)).toBe(true);
      expect(await fs.readFile(await s.store.localPath(sha256))).toEqual(data);
    } finally {
      other.close();
    }
  });

  it('refuses an object whose bytes do not hash to its key, and caches nothing', async () => {
    s = await makeS3Store();
    const claimed = sha(Buffer.from('the real bytes'));
    const raw = s3Client();
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${s.store.prefix}${claimed}`, Body: Buffer.from('tampered bytes') }));
    raw.destroy();
    await expect(s.store.get(claimed)).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
    await expect(s.store.localPath(claimed)).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
    expect(await filesUnder(s.cacheDir)).toEqual([]);
  });

  it('reports an unreachable server as a retryable STORE_UNAVAILABLE, not as missing media', async () => {
    s = await makeS3Store();
    const port = await closedPort();
    const store = new S3BlobStore({ client: s3Client({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 }), bucket: BUCKET, cacheDir: s.cacheDir });
    try {
      const calls = [
        () => store.has('b'.repeat(64)),
        () => store.get('b'.repeat(64)),
        () => store.localPath('b'.repeat(64)),
        () => store.put(Buffer.from('x')),
      ];
      for (const call of calls) {
        const error = await call().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(VitronError);
        expect(error).toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
      }
    } finally {
      store.close();
    }
  });

  it('reports a missing bucket as a configuration fault, never as missing media', async () => {
    s = await makeS3Store();
    const store = new S3BlobStore({ client: s3Client(), bucket: 'no-such-bucket', cacheDir: s.cacheDir });
    try {
      const error = await store.get('c'.repeat(64)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).not.toBeInstanceOf(MediaNotFoundError);
      expect(error).toMatchObject({ code: 'INTERNAL', retryable: false });
      expect((error as Error).message).toMatch(/NoSuchBucket/);
    } finally {
      store.close();
    }
  });
});

describe('createBlobStore', () => {
  it('uses the MEDIA_DIR directory when no bucket is set', () => {
    const store = createBlobStore(loadSettings({}, '/srv/vitron'));
    expect(store).toBeInstanceOf(LocalBlobStore);
    expect((store as LocalBlobStore).root).toBe('/srv/vitron/data/media');
  });

  it('uses the bucket when S3_BUCKET is set, with path-style URLs for a custom endpoint by default', async () => {
    const store = createBlobStore(
      loadSettings({ S3_BUCKET: 'b', S3_ENDPOINT: 'http://minio:9000', S3_ACCESS_KEY_ID: 'k', S3_SECRET_ACCESS_KEY: 's' }, '/srv/vitron'),
    );
    expect(store).toBeInstanceOf(S3BlobStore);
    const s3 = store as S3BlobStore;
    expect(s3.prefix).toBe('media/');
    expect(s3.cacheDir).toBe('/srv/vitron/data/s3-cache');
    expect(s3.client.config.forcePathStyle).toBe(true);
    expect(await s3.client.config.region()).toBe('us-east-1');
    s3.close();
  });

  it.each([
    [{ S3_BUCKET: 'b' }, false],
    [{ S3_BUCKET: 'b', S3_FORCE_PATH_STYLE: 'true' }, true],
    [{ S3_BUCKET: 'b', S3_ENDPOINT: 'https://s3.example.org', S3_FORCE_PATH_STYLE: 'no' }, false],
  ])('chooses path-style URLs from the settings: %o', (env, expected) => {
    const store = createBlobStore(loadSettings(env, '/srv/vitron')) as S3BlobStore;
    expect(store.client.config.forcePathStyle).toBe(expected);
    store.close();
  });

  it('stops on one access key without the other, naming the missing one', () => {
    expect(() => createBlobStore(loadSettings({ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' }))).toThrow(SettingsError);
    expect(() => createBlobStore(loadSettings({ S3_BUCKET: 'b', S3_ACCESS_KEY_ID: 'k' }))).toThrow(
      'Setting S3_SECRET_ACCESS_KEY: expected to be set together with S3_ACCESS_KEY_ID, received nothing',
    );
  });

  it.each([
    [{ S3_PREFIX: '/media' }, /^Setting S3_PREFIX: expected an object key prefix .*, received "\/media"$/],
    [{ S3_ENDPOINT: 'minio:9000' }, /^Setting S3_ENDPOINT: expected a URL starting with http:\/\/ or https:\/\/, received "minio:9000"$/],
    [{ S3_FORCE_PATH_STYLE: 'maybe' }, /^Setting S3_FORCE_PATH_STYLE: expected true or false, received "maybe"$/],
    [{ METRICS_PORT: '70000' }, /^Setting METRICS_PORT: expected an integer from 0 to 65535, received "70000"$/],
  ])('stops on a wrong S3 or metrics setting with one line: %o', (env, message) => {
    expect(() => loadSettings(env)).toThrow(message);
  });

  it('builds a working store from settings against a real S3-compatible server', async () => {
    const temp = await makeTempDir('vitron-s3-settings-');
    const store = createBlobStore(
      loadSettings(
        {
          S3_BUCKET: BUCKET,
          S3_ENDPOINT: endpoint,
          S3_ACCESS_KEY_ID: 'S3RVER',
          S3_SECRET_ACCESS_KEY: 'S3RVER',
          S3_PREFIX: `settings-${randomUUID()}/`,
          DATA_DIR: temp.dir,
        },
        temp.dir,
      ),
    ) as S3BlobStore;
    try {
      const data = Buffer.from('through the settings');
      const { sha256 } = await store.put(data);
      expect(await store.get(sha256)).toEqual(data);
      expect(await fs.readFile(await store.localPath(sha256))).toEqual(data);
      expect(await store.localPath(sha256)).toBe(path.join(temp.dir, 's3-cache', sha256.slice(0, 2), sha256.slice(2, 4), sha256));
    } finally {
      store.close();
      await temp.cleanup();
    }
  });
});

/** A port that was free a moment ago and has nothing listening: connecting to it is refused at once. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
