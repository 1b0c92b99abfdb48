import type { Settings } from '../config/settings.ts';

/** What the media layer refuses before doing any expensive work. One object, so tests can pass tiny limits. */
export interface MediaLimits {
  maxBytes: number;
  maxImagePixels: number;
  maxVideoSeconds: number;
  /** Landscape-normalised: a portrait video is checked with its long side against the larger of the two. */
  maxVideoWidth: number;
  maxVideoHeight: number;
  maxVideoFrames: number;
}

export type LimitSettings = Pick<
  Settings,
  'MAX_UPLOAD_BYTES' | 'MAX_IMAGE_PIXELS' | 'MAX_VIDEO_SECONDS' | 'MAX_VIDEO_WIDTH' | 'MAX_VIDEO_HEIGHT' | 'MAX_VIDEO_FRAMES'
>;

export function limitsFromSettings(settings: LimitSettings): MediaLimits {
  return {
    maxBytes: settings.MAX_UPLOAD_BYTES,
    maxImagePixels: settings.MAX_IMAGE_PIXELS,
    maxVideoSeconds: settings.MAX_VIDEO_SECONDS,
    maxVideoWidth: settings.MAX_VIDEO_WIDTH,
    maxVideoHeight: settings.MAX_VIDEO_HEIGHT,
    maxVideoFrames: settings.MAX_VIDEO_FRAMES,
  };
}

const BINARY = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/**
 * Sizes for people to read. Binary by default ("512 bytes", "1.5 KiB", "12.0 MiB"), because upload limits
 * are configured in those units; decimal ("512 B", "1.0 kB", "88.2 MB", "1.25 GB") for downloads, because
 * model hubs and npm state sizes that way.
 */
export function formatBytes(bytes: number, units: 'binary' | 'decimal' = 'binary'): string {
  if (units === 'decimal') {
    if (bytes >= 1e9) return `${(bytes / 1e9).toFixed(2)} GB`;
    if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
    if (bytes >= 1e3) return `${(bytes / 1e3).toFixed(1)} kB`;
    return `${Math.round(bytes)} B`;
  }
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < BINARY.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BINARY[unit]}`;
}

/** "0.5 s", "45 s", "2 min", "3 min 10 s", "1 h 2 min". Sub-minute values keep one decimal when they have one. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) {
    const rounded = Math.round(seconds * 10) / 10;
    return `${Number.isInteger(rounded) ? rounded : rounded.toFixed(1)} s`;
  }
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const min = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const parts: string[] = [];
  if (h > 0) parts.push(`${h} h`);
  if (min > 0) parts.push(`${min} min`);
  if (s > 0 && h === 0) parts.push(`${s} s`);
  return parts.join(' ');
}

/** "40.0 megapixels"; small counts stay exact ("4,096 pixels") so tiny test limits still read well. */
export function formatPixels(pixels: number): string {
  if (pixels < 1_000_000) return `${pixels.toLocaleString('en-US')} pixels`;
  return `${(pixels / 1_000_000).toFixed(1)} megapixels`;
}

export function formatSize(width: number, height: number): string {
  return `${width} × ${height}`;
}
