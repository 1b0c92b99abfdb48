import { createHash, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../config/settings.ts';
import { InvalidArgumentError, MediaNotFoundError } from '../errors.ts';

export interface StoredBlob {
  sha256: string;
  bytes: number;
}

/**
 * Content-addressed storage for media bytes. Kept small on purpose: an S3-compatible store implements the
 * same five methods, with `localPath` returning a cached local copy for ffmpeg.
 */
export interface BlobStore {
  /** Stores the bytes under their SHA-256; storing the same bytes twice is a no-op. */
  put(data: Uint8Array): Promise<StoredBlob>;
  /** Throws MediaNotFoundError when nothing is stored under the hash. */
  get(sha256: string): Promise<Buffer>;
  has(sha256: string): Promise<boolean>;
  /** A local file holding the blob, for tools that need a path (ffmpeg). Never write to it. */
  localPath(sha256: string): Promise<string>;
  /** Removes the blob; removing a missing blob is not an error. */
  delete?(sha256: string): Promise<void>;
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256(value: unknown): value is string {
  return typeof value === 'string' && SHA256_HEX.test(value);
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Hashes reach the store from job payloads and URLs; checking the exact shape is what keeps a crafted
 * value such as "../../etc/passwd" from ever becoming part of a path.
 */
export function assertSha256(value: unknown): asserts value is string {
  if (!isSha256(value)) {
    const shape = typeof value === 'string' ? `${value.length} characters` : typeof value;
    throw new InvalidArgumentError(`A media hash must be 64 lowercase hexadecimal characters; received ${shape}.`, {
      received: shape,
    });
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/** Blobs as files under one directory, sharded two levels deep (`ab/cd/abcd…`) to keep directories small. */
export class LocalBlobStore implements BlobStore {
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  static fromSettings(settings: Pick<Settings, 'MEDIA_DIR'>): LocalBlobStore {
    return new LocalBlobStore(settings.MEDIA_DIR);
  }

  private pathOf(sha256: string): string {
    assertSha256(sha256);
    return path.join(this.root, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(data: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(data);
    const target = this.pathOf(sha256);
    const stored = { sha256, bytes: data.byteLength };
    if (await this.exists(target)) return stored;
    await fs.mkdir(path.dirname(target), { recursive: true });
    // Write beside the target and rename: readers see the whole blob or none of it, and two concurrent puts
    // of the same bytes both succeed because rename replaces atomically.
    const temp = `${target}.${randomUUID()}.tmp`;
    try {
      const handle = await fs.open(temp, 'wx');
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
    return stored;
  }

  async get(sha256: string): Promise<Buffer> {
    const file = this.pathOf(sha256);
    try {
      return await fs.readFile(file);
    } catch (error) {
      if (isMissing(error)) throw new MediaNotFoundError(sha256);
      throw error;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return this.exists(this.pathOf(sha256));
  }

  async localPath(sha256: string): Promise<string> {
    const file = this.pathOf(sha256);
    if (!(await this.exists(file))) throw new MediaNotFoundError(sha256);
    return file;
  }

  async delete(sha256: string): Promise<void> {
    await fs.rm(this.pathOf(sha256), { force: true });
  }

  private async exists(file: string): Promise<boolean> {
    try {
      return (await fs.stat(file)).isFile();
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }
}
