import { promises as fs } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNsfwClassifier, NSFW_CLASSES, nsfwScore, scoreRgb, imageToModelInput, verdictOf } from '../../src/safety/nsfw-classifier.ts';
import { SYSTEM_FFMPEG, makeClip, makeTempDir, solidImage, testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const classify = createNsfwClassifier({ SAFETY_NSFW_THRESHOLD: 0.7 }, SYSTEM_FFMPEG);

describe('the NSFW score and verdict', () => {
  it('counts Porn and Hentai in full and Sexy at half; flagged from the threshold up', () => {
    const scores = { Drawing: 0.1, Hentai: 0.1, Neutral: 0.2, Porn: 0.4, Sexy: 0.2 };
    expect(nsfwScore(scores)).toBeCloseTo(0.6, 10);
    expect(verdictOf(scores, 0.6)).toEqual({ nsfw: expect.closeTo(0.6, 10), flagged: true });
    expect(verdictOf(scores, 0.61).flagged).toBe(false);
  });
});

describe('nsfwjs MobileNetV2 on the tfjs WASM runtime (real bundled weights)', () => {
  photos.it('keeps the real test photos neutral', { timeout: 120_000 }, async () => {
    for (const name of ['astronaut.png', 'chelsea.png']) {
      const bytes = await fs.readFile(testdata(name));
      const scores = await scoreRgb(await imageToModelInput(bytes));
      // The five class probabilities of a softmax, in nsfwjs' order.
      expect(Object.keys(scores)).toEqual([...NSFW_CLASSES]);
      expect(Object.values(scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect(scores.Neutral, name).toBeGreaterThan(0.9);
      const verdict = await classify({ kind: 'image', bytes });
      expect(verdict.flagged, name).toBe(false);
      expect(verdict.nsfw).toBeGreaterThanOrEqual(0);
      expect(verdict.nsfw).toBeLessThan(0.2);
    }
  });

  it('gives every picture a score from 0 to 1, whatever its format, size or transparency', { timeout: 120_000 }, async () => {
    const pictures = [
      await solidImage(8, 8, '#ff0000'),
      await solidImage(1200, 300, '#336699'),
      await (await import('sharp'))
        .default({ create: { width: 64, height: 64, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
        .webp()
        .toBuffer(),
    ];
    for (const bytes of pictures) {
      const { nsfw, flagged } = await classify({ kind: 'image', bytes });
      expect(nsfw).toBeGreaterThanOrEqual(0);
      expect(nsfw).toBeLessThanOrEqual(1);
      expect(flagged).toBe(nsfw >= 0.7);
    }
  });

  describe('a video', () => {
    let dir: Awaited<ReturnType<typeof makeTempDir>>;
    beforeAll(async () => {
      dir = await makeTempDir('vitron-nsfw-');
    });
    afterAll(async () => {
      await dir.cleanup();
    });

    it('gets a score from its frames (up to three, spread over it), and is flagged when the threshold is 0', { timeout: 120_000 }, async () => {
      const file = await makeClip(dir.dir, 'clip', { seconds: 2, fps: 10 });
      const verdict = await classify({ kind: 'video', file, durationSec: 2 });
      expect(verdict.nsfw).toBeGreaterThanOrEqual(0);
      expect(verdict.nsfw).toBeLessThanOrEqual(1);
      const everything = createNsfwClassifier({ SAFETY_NSFW_THRESHOLD: 0 }, SYSTEM_FFMPEG);
      expect(await everything({ kind: 'video', file, durationSec: 2 })).toEqual({ nsfw: verdict.nsfw, flagged: true });
    });
  });
});
