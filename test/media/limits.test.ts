import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { formatBytes, formatDuration, formatPixels, limitsFromSettings } from '../../src/media/limits.ts';

describe('media limits', () => {
  it('reads every limit from settings', () => {
    const settings = loadSettings({
      MAX_UPLOAD_BYTES: '1000',
      MAX_IMAGE_PIXELS: '2000',
      MAX_VIDEO_SECONDS: '30',
      MAX_VIDEO_WIDTH: '640',
      MAX_VIDEO_HEIGHT: '480',
      MAX_VIDEO_FRAMES: '900',
    });
    expect(limitsFromSettings(settings)).toEqual({
      maxBytes: 1000,
      maxImagePixels: 2000,
      maxVideoSeconds: 30,
      maxVideoWidth: 640,
      maxVideoHeight: 480,
      maxVideoFrames: 900,
    });
  });

  it('formats sizes in binary units', () => {
    expect(formatBytes(0)).toBe('0 bytes');
    expect(formatBytes(1)).toBe('1 byte');
    expect(formatBytes(1023)).toBe('1023 bytes');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12 * 1024 * 1024)).toBe('12.0 MiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });

  it('formats download sizes in decimal units, as model hubs state them', () => {
    expect(formatBytes(512.4, 'decimal')).toBe('512 B');
    expect(formatBytes(1000, 'decimal')).toBe('1.0 kB');
    expect(formatBytes(88_188_479, 'decimal')).toBe('88.2 MB');
    expect(formatBytes(1_250_000_000, 'decimal')).toBe('1.25 GB');
  });

  it('formats durations the way people say them', () => {
    expect(formatDuration(0.5)).toBe('0.5 s');
    expect(formatDuration(45)).toBe('45 s');
    expect(formatDuration(120)).toBe('2 min');
    expect(formatDuration(190)).toBe('3 min 10 s');
    expect(formatDuration(3725)).toBe('1 h 2 min');
  });

  it('formats pixel counts', () => {
    expect(formatPixels(40_000_000)).toBe('40.0 megapixels');
    expect(formatPixels(4096)).toBe('4,096 pixels');
  });
});
