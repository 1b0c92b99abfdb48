import type { Task } from '../../core/tasks.ts';
import { drawBoxes } from '../ops/draw-boxes.ts';
import { toRaw } from '../ops/raw-image.ts';
import type { LoadedMedia, SpecialistContext } from '../specialist.ts';
import { mapVideoWithTracking } from './tracked-frames.ts';
import sharp from 'sharp';
import { countOf } from '../models/coco-labels.ts';
import { detect, detectEveryFor, phraseLabel } from './detector.ts';

/**
 * Detection on a video: the detector on every frame, the tracker joining boxes into things, each thing
 * drawn with its label and number on every frame (the source's audio kept).
 */

/** A thing seen in fewer frames than this is a detector blink, not something in the video. */
const MIN_FRAMES_TO_COUNT = 3;

export interface TrackedVideo {
  bytes: Buffer;
  frames: number;
  /** Distinct tracked things per label, blinks left out. */
  counts: Map<string, number>;
}

/**
 * `embeddings` are the invocation's: the planner's encoding of the phrase serves every frame; without one the
 * phrase is encoded on the first detector frame and remembered for the rest (text-conditioning.ts).
 */
export async function detectInVideo(
  video: LoadedMedia,
  phrase: string | undefined,
  context: SpecialistContext,
  task: Task,
  embeddings?: Readonly<Record<string, readonly number[]>>,
): Promise<TrackedVideo> {
  // A phrase the detector cannot serve is refused before ffmpeg starts.
  if (phrase !== undefined) phraseLabel(context.models, phrase, task);
  const seen = new Map<number, { label: string; frames: number }>();
  const out = await mapVideoWithTracking(
    video,
    async (frame) => (await detect(context.models, frame, phrase, task, embeddings)).detections,
    async (frame, tracks) => {
      for (const t of tracks) {
        if (t.trackId === undefined) continue;
        const entry = seen.get(t.trackId) ?? { label: t.label, frames: 0 };
        entry.frames += 1;
        seen.set(t.trackId, entry);
      }
      if (tracks.length === 0) return frame;
      const png = await drawBoxes(
        frame,
        tracks.map((t) => ({ ...t, label: `${t.label} ${t.trackId ?? ''}`.trim() })),
      );
      return toRaw(sharp(png).ensureAlpha());
    },
    context,
    'finding and tracking',
    { detectEvery: detectEveryFor(phrase) },
  );
  const counts = new Map<string, number>();
  const needed = Math.min(MIN_FRAMES_TO_COUNT, out.frames);
  for (const { label, frames } of seen.values()) if (frames >= needed) counts.set(label, (counts.get(label) ?? 0) + 1);
  return { bytes: out.bytes, frames: out.frames, counts };
}

/** "2 people, 1 dog" from tracked counts, most first. */
export function tallyCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([label, n]) => countOf(label, n))
    .join(', ');
}
