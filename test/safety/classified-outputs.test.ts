import { promises as fs } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { limitsFromSettings } from '../../src/media/limits.ts';
import { LocalBlobStore } from '../../src/media/blob-store.ts';
import type { ClassifiableMedia } from '../../src/safety/nsfw-classifier.ts';
import type { ProducedMedia, Specialist } from '../../src/vision/specialist.ts';
import { runJob } from '../../src/worker/job-runner.ts';
import { SYSTEM_FFMPEG, makeClip, makeTempDir, solidImage } from '../helpers/media-fixtures.ts';
import { testRegistry, testSettings } from '../helpers/specialist-context.ts';

/** A specialist that returns whatever the test hands it, for the job runner to store. */
function returning(media: ProducedMedia[]): Specialist {
  return { tasks: ['adjust'], models: [], run: async () => ({ media }) };
}

describe('the job runner classifies what it produces (injected classifier)', () => {
  let dir: Awaited<ReturnType<typeof makeTempDir>>;
  beforeEach(async () => {
    dir = await makeTempDir('vitron-safety-runner-');
  });
  afterEach(async () => {
    await dir.cleanup();
  });

  async function run(media: ProducedMedia[], classify?: (media: ClassifiableMedia) => Promise<{ nsfw: number; flagged: boolean }>) {
    const settings = testSettings();
    const blobs = new LocalBlobStore(`${dir.dir}/blobs`);
    const upload = await solidImage(16, 16);
    const { sha256, bytes } = await blobs.put(upload);
    const seen: ClassifiableMedia[] = [];
    const outcome = await runJob(
      {
        jobId: 'job-safety-1',
        conversationId: 'conv-1',
        steps: [
          {
            targets: [{ media: { id: 'm1', sha256, kind: 'image', mime: 'image/png', bytes, width: 16, height: 16 } }],
            invocation: { task: 'adjust', targets: [], args: {} },
          },
        ],
      },
      {
        settings,
        blobs,
        models: testRegistry().models,
        ffmpeg: SYSTEM_FFMPEG,
        limits: limitsFromSettings(settings),
        specialistFor: () => returning(media),
        tmpRoot: dir.dir,
        ...(classify
          ? {
              classify: async (item: ClassifiableMedia) => {
                seen.push(item);
                return classify(item);
              },
            }
          : {}),
      },
      { signal: new AbortController().signal, progress: () => {} },
    );
    return { records: outcome.steps[0]!.media, seen };
  }

  it('puts the verdict on every picture and video it stores, and skips masks', async () => {
    const clip = await fs.readFile(await makeClip(dir.dir, 'clip', { seconds: 1 }));
    const { records, seen } = await run(
      [
        { bytes: await solidImage(8, 8, '#ff0000'), kind: 'image', mime: 'image/png', role: 'result', label: 'result' },
        { bytes: await solidImage(8, 8, '#ffffff'), kind: 'image', mime: 'image/png', role: 'mask', label: 'mask' },
        { bytes: clip, kind: 'video', mime: 'video/mp4', role: 'overlay', label: 'overlay' },
      ],
      async (item) => (item.kind === 'video' ? { nsfw: 0.2, flagged: false } : { nsfw: 0.9, flagged: true }),
    );
    expect(records.map((r) => [r.role, r.safety])).toEqual([
      ['result', { nsfw: 0.9, flagged: true }],
      ['mask', undefined],
      ['overlay', { nsfw: 0.2, flagged: false }],
    ]);
    // The video is handed over as its stored file with its probed length, for frame sampling.
    expect(seen.map((s) => s.kind)).toEqual(['image', 'video']);
    const video = seen[1] as Extract<ClassifiableMedia, { kind: 'video' }>;
    expect(await fs.readFile(video.file)).toEqual(clip);
    expect(video.durationSec).toBeCloseTo(1, 0);
  });

  it('stores outputs without a verdict when there is no classifier (SAFETY=off)', async () => {
    const { records } = await run([{ bytes: await solidImage(8, 8), kind: 'image', mime: 'image/png', role: 'result', label: 'result' }]);
    expect(records[0]!.safety).toBeUndefined();
  });
});
