import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import type { Settings } from '../config/settings.ts';
import { InternalError, MediaNotFoundError, SettingsError, VitronError } from '../errors.ts';
import { assertSha256, sha256Hex } from './blob-store.ts';
import type { BlobStore, StoredBlob } from './blob-store.ts';

export interface S3BlobStoreOptions {
  client: S3Client;
  bucket: string;
  /** Prepended to every object key: with 'media/' a blob lives at `media/<sha256>`. */
  prefix?: string;
  /** Where `localPath` keeps downloaded copies (ffmpeg needs a file). Never shared with a LocalBlobStore root. */
  cacheDir: string;
}

export type S3Settings = Pick<
  Settings,
  'DATA_DIR' | 'S3_BUCKET' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_ACCESS_KEY_ID' | 'S3_SECRET_ACCESS_KEY' | 'S3_FORCE_PATH_STYLE' | 'S3_PREFIX' | 'S3_CACHE_DIR'
>;

const MISSING_OBJECT = new Set(['NoSuchKey', 'NotFound']);

function isMissingObject(error: unknown): boolean {
  // NoSuchBucket is also a 404, but it is a wrong setting, not a missing blob: it must not look like one.
  return error instanceof S3ServiceException && MISSING_OBJECT.has(error.name);
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * The queue retries only what says `retryable`: an unreachable or overloaded store is worth another attempt,
 * while a refused signature or a missing bucket is a configuration fault that retrying would only repeat.
 */
function asStoreError(error: unknown, operation: string, key: string): VitronError {
  if (error instanceof VitronError) return error;
  const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
  const clientFault = error instanceof S3ServiceException && error.$fault === 'client' && status !== 408 && status !== 429;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (clientFault) return new InternalError(`The media store refused ${operation} of ${key} (${reason}).`, error);
  return new VitronError('STORE_UNAVAILABLE', 'The media store is not reachable right now; try again in a moment.', {
    retryable: true,
    cause: error,
    details: { operation, key, status, reason },
  });
}

/** A read that does not hash to its key was damaged on the way (or in the bucket); a second read may be clean. */
class BlobDigestMismatchError extends VitronError {
  constructor(sha256: string, actual: string) {
    super('INTERNAL', `The media ${sha256.slice(0, 12)}… read from the store does not match its hash.`, {
      retryable: true,
      details: { sha256, actual },
    });
  }
}

/**
 * Blobs in an S3-compatible bucket (AWS S3, MinIO, s3rver), so bots and workers on different machines share
 * media. Keys are always `prefix + sha256`, checked before any request, so no user text becomes a key.
 * Every read is verified against its hash: content addressing makes corruption detectable for free.
 */
export class S3BlobStore implements BlobStore {
  readonly client: S3Client;
  readonly bucket: string;
  readonly prefix: string;
  readonly cacheDir: string;
  /** One download per blob at a time in this process; other processes are kept safe by the atomic rename. */
  private readonly downloads = new Map<string, Promise<string>>();

  constructor(options: S3BlobStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    this.prefix = options.prefix ?? 'media/';
    this.cacheDir = path.resolve(options.cacheDir);
  }

  static fromSettings(settings: S3Settings): S3BlobStore {
    if (!settings.S3_BUCKET) throw new SettingsError('S3_BUCKET', 'a bucket name for the S3 media store', 'nothing');
    const keyId = settings.S3_ACCESS_KEY_ID;
    const secret = settings.S3_SECRET_ACCESS_KEY;
    if ((keyId === undefined) !== (secret === undefined)) {
      const [missing, given] = keyId === undefined ? ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'] : ['S3_SECRET_ACCESS_KEY', 'S3_ACCESS_KEY_ID'];
      throw new SettingsError(missing, `to be set together with ${given}`, 'nothing');
    }
    const client = new S3Client({
      region: settings.S3_REGION ?? 'us-east-1',
      ...(settings.S3_ENDPOINT === undefined ? {} : { endpoint: settings.S3_ENDPOINT }),
      // Self-hosted servers (MinIO, s3rver) seldom have wildcard DNS for bucket subdomains; AWS prefers
      // virtual-hosted keys. So path style follows the endpoint unless the setting says otherwise.
      forcePathStyle: settings.S3_FORCE_PATH_STYLE ?? settings.S3_ENDPOINT !== undefined,
      // Without keys the SDK's default chain applies (AWS_* variables, instance and pod roles).
      ...(keyId !== undefined && secret !== undefined ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : {}),
      // Newer SDKs add CRC checksums that several S3-compatible servers reject; we send Content-MD5 (which
      // every implementation checks) and verify every read against its SHA-256 ourselves.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    return new S3BlobStore({
      client,
      bucket: settings.S3_BUCKET,
      prefix: settings.S3_PREFIX ?? 'media/',
      cacheDir: settings.S3_CACHE_DIR ?? path.join(settings.DATA_DIR, 's3-cache'),
    });
  }

  private keyOf(sha256: string): string {
    assertSha256(sha256);
    return `${this.prefix}${sha256}`;
  }

  private cachePathOf(sha256: string): string {
    return path.join(this.cacheDir, sha256.slice(0, 2), sha256.slice(2, 4), sha256);
  }

  async put(data: Uint8Array): Promise<StoredBlob> {
    const sha256 = sha256Hex(data);
    const key = this.keyOf(sha256);
    const stored = { sha256, bytes: data.byteLength };
    if (await this.has(sha256)) return stored;
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: data,
          ContentLength: data.byteLength,
          ContentType: 'application/octet-stream',
          ContentMD5: createHash('md5').update(data).digest('base64'),
        }),
      );
    } catch (error) {
      throw asStoreError(error, 'PutObject', key);
    }
    return stored;
  }

  async get(sha256: string): Promise<Buffer> {
    const key = this.keyOf(sha256);
    let data: Buffer;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      data = Buffer.from((await response.Body?.transformToByteArray()) ?? new Uint8Array());
    } catch (error) {
      if (isMissingObject(error)) throw new MediaNotFoundError(sha256);
      throw asStoreError(error, 'GetObject', key);
    }
    const actual = sha256Hex(data);
    if (actual !== sha256) throw new BlobDigestMismatchError(sha256, actual);
    return data;
  }

  async has(sha256: string): Promise<boolean> {
    const key = this.keyOf(sha256);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (error) {
      if (isMissingObject(error)) return false;
      throw asStoreError(error, 'HeadObject', key);
    }
  }

  async localPath(sha256: string): Promise<string> {
    assertSha256(sha256);
    const file = this.cachePathOf(sha256);
    if (await isFile(file)) return file;
    const running = this.downloads.get(sha256);
    if (running) return running;
    const download = this.download(sha256, file).finally(() => this.downloads.delete(sha256));
    this.downloads.set(sha256, download);
    return download;
  }

  async delete(sha256: string): Promise<void> {
    const key = this.keyOf(sha256);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (!isMissingObject(error)) throw asStoreError(error, 'DeleteObject', key);
    }
    await fs.rm(this.cachePathOf(sha256), { force: true });
  }

  /** Closes the client's pooled connections; the store is unusable afterwards. */
  close(): void {
    this.client.destroy();
  }

  private async download(sha256: string, file: string): Promise<string> {
    const key = this.keyOf(sha256);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // Stream to a temp file beside the target, hashing on the way, and rename only a verified copy: a
    // reader never sees a partial or damaged file, and a video never has to fit in memory.
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      let body: Readable;
      try {
        const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        body = response.Body as Readable;
      } catch (error) {
        if (isMissingObject(error)) throw new MediaNotFoundError(sha256);
        throw asStoreError(error, 'GetObject', key);
      }
      const hash = createHash('sha256');
      try {
        await pipeline(
          body,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              hash.update(chunk);
              yield chunk;
            }
          },
          createWriteStream(temp, { flags: 'wx' }),
        );
      } catch (error) {
        throw asStoreError(error, 'GetObject', key);
      }
      const actual = hash.digest('hex');
      if (actual !== sha256) throw new BlobDigestMismatchError(sha256, actual);
      await fs.rename(temp, file);
      return file;
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch (error) {
    if (isMissingFile(error)) return false;
    throw error;
  }
}
