import type { MediaView } from '../../src/app/bot-api.ts';

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/avif': 'avif',
  'image/tiff': 'tiff',
  'image/bmp': 'bmp',
  'image/svg+xml': 'svg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'video/x-matroska': 'mkv',
  'video/x-msvideo': 'avi',
};

/**
 * A download name that says what the file is ("vitron-result-3-1a2b3c4d.png"); built only from our own
 * fields, so a user's upload name never reaches a header.
 */
export function downloadFileName(view: MediaView): string {
  const ext = EXTENSIONS[view.mime] ?? view.mime.split('/')[1]?.replace(/[^a-z0-9]/gi, '') ?? 'bin';
  const what = view.role === 'upload' ? 'upload' : view.role;
  const ordinal = view.ordinal !== undefined ? `-${view.ordinal}` : '';
  const shortId = view.id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
  return `vitron-${what}${ordinal}-${shortId}.${ext || 'bin'}`;
}
