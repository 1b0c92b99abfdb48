import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Links to media that work without the playground's cookie — what a chat platform shows when a file is too large
 * to upload — signed with a server secret and expiring. Media ids are time-ordered and partly guessable; a
 * signature over (id, expiry) is not, and the link names no user.
 */
export interface MediaLinkSigner {
  /** `/api/media/<id>?expires=<unix s>&sig=<hex>`, relative like MediaView.url. */
  link(mediaId: string, now?: Date): string;
  /** Whether a link's expiry and signature are right for this media id. */
  verify(mediaId: string, expires: string, sig: string, now?: Date): boolean;
}

const SECRET_FILE = 'media-link.secret';

export function mediaLinkSigner(secret: string, ttlHours: number): MediaLinkSigner {
  const sign = (mediaId: string, expires: string) => createHmac('sha256', secret).update(`${mediaId}\n${expires}`).digest('hex');
  return {
    link(mediaId, now = new Date()) {
      // Rounded up to the hour: the same media gets the same link for an hour, so caches and chats can reuse it.
      const expires = String(Math.ceil(now.getTime() / 3_600_000) * 3600 + ttlHours * 3600);
      return `/api/media/${encodeURIComponent(mediaId)}?expires=${expires}&sig=${sign(mediaId, expires)}`;
    },
    verify(mediaId, expires, sig, now = new Date()) {
      if (!/^\d{1,12}$/.test(expires) || !/^[0-9a-f]{64}$/.test(sig)) return false;
      if (Number(expires) * 1000 < now.getTime()) return false;
      return timingSafeEqual(Buffer.from(sign(mediaId, expires), 'hex'), Buffer.from(sig, 'hex'));
    },
  };
}

/** MEDIA_LINK_SECRET, or the secret kept in DATA_DIR (made on first start), so links survive a restart. */
export async function linkSecret(settings: { MEDIA_LINK_SECRET?: string | undefined; DATA_DIR: string }): Promise<string> {
  if (settings.MEDIA_LINK_SECRET !== undefined) return settings.MEDIA_LINK_SECRET;
  const file = path.join(settings.DATA_DIR, SECRET_FILE);
  try {
    const kept = (await fs.readFile(file, 'utf8')).trim();
    if (kept.length >= 32) return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const made = randomBytes(32).toString('hex');
  await fs.mkdir(settings.DATA_DIR, { recursive: true });
  // wx: two processes starting at once keep the first one's secret.
  await fs.writeFile(file, made, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await fs.readFile(file, 'utf8')).trim();
}
