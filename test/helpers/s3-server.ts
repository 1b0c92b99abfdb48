import { createRequire } from 'node:module';
import path from 'node:path';
import { makeTempDir } from './media-fixtures.ts';

/** s3rver ships no types; this is the part of its API the tests use. */
interface S3rverServer {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  silent: boolean;
  directory: string;
  configureBuckets: { name: string }[];
}) => S3rverServer;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;

/** s3rver checks signatures against its one built-in key pair. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** The S3_* settings that point the media store at this server. */
  settings: Record<string, string>;
  close(): Promise<void>;
}

/** A local S3-compatible server (s3rver from npm) with one bucket, in a temp directory of its own. */
export async function startLocalS3(bucket = 'vitron-test'): Promise<LocalS3> {
  const root = await makeTempDir('vitron-s3-');
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: path.join(root.dir, 's3rver'), configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    settings: {
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      S3_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    },
    async close() {
      await server.close();
      await root.cleanup();
    },
  };
}
