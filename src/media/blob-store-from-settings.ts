import type { Settings } from '../config/settings.ts';
import { LocalBlobStore } from './blob-store.ts';
import type { BlobStore } from './blob-store.ts';
import { S3BlobStore } from './s3-blob-store.ts';
import type { S3Settings } from './s3-blob-store.ts';

/**
 * The one place that picks the media store, so every bot and worker on a deployment agrees: a bucket when
 * S3_BUCKET is set (machines share media), otherwise the MEDIA_DIR directory (one machine).
 */
export function createBlobStore(settings: S3Settings & Pick<Settings, 'MEDIA_DIR'>): BlobStore {
  return settings.S3_BUCKET === undefined ? LocalBlobStore.fromSettings(settings) : S3BlobStore.fromSettings(settings);
}
