import { InvalidArgumentError } from '../../errors.ts';
import type { Detection } from '../ops/detection.ts';
import { select } from './referring.ts';
import type { Selector } from '../../core/referring.ts';
import type { RawImage } from '../ops/raw-image.ts';
import type { LoadedMedia, SpecialistContext } from '../specialist.ts';
import { BoxTracker } from './tracker.ts';
import type { TrackerOptions } from './tracker.ts';
import { mapVideoFrames } from '../ops/frame-map.ts';
import type { MappedVideo } from '../ops/frame-map.ts';

/** Finds things in one decoded frame (RGBA), in that frame's pixels. */
export type FrameDetector = (frame: RawImage, index: number) => Promise<Detection[]>;

/** Works on one frame knowing every live track in it (each with its `trackId`); returns the new frame. */
export type TrackedFrameOp = (frame: RawImage, tracks: readonly Detection[], index: number) => Promise<RawImage>;

export interface TrackingOptions {
  /**
   * Run the detector on every n-th frame only (default 1); in between, tracks move on their velocity.
   * Faster, but a thing that appears between two detector frames is missed until the next one.
   */
  detectEvery?: number;
  tracker?: TrackerOptions;
}

/**
 * `mapVideoFrames` (decode → per-frame work → encode, audio kept) with a detector and a tracker in the
 * loop: `op` sees tracked boxes, which keep their identity across frames, bridge frames where the
 * detector blinks and do not jitter. `trackCount` is how many distinct things were tracked.
 */
export async function mapVideoWithTracking(
  video: LoadedMedia,
  detector: FrameDetector,
  op: TrackedFrameOp,
  context: SpecialistContext,
  what: string,
  options: TrackingOptions = {},
): Promise<MappedVideo & { trackCount: number }> {
  const every = options.detectEvery ?? 1;
  if (!Number.isInteger(every) || every < 1) throw new InvalidArgumentError(`detectEvery must be a whole number of frames, 1 or more; received ${every}.`);
  const tracker = new BoxTracker(options.tracker);
  const mapped = await mapVideoFrames(
    video,
    async (frame, index) => {
      const tracks = index % every === 0 ? tracker.update(await detector(frame, index)) : tracker.coast();
      return op(frame, tracks, index);
    },
    context,
    what,
  );
  return { ...mapped, trackCount: tracker.created };
}

/**
 * Which live tracks a referring phrase means, frame after frame. "The dogs" and "the dog" mean every
 * track. "The face on the left" picks one track on the first frame where the selector can be met ("the
 * second face" needs two faces in view) and then follows that track's id: re-choosing every frame would
 * hop to another face whenever two cross or one enters further left. Only when the chosen track ends
 * (the tracker dropped it) is the choice made again among the tracks then alive.
 */
export class TrackSelection {
  private chosen: number | undefined;
  private readonly everChosen = new Set<number>();

  constructor(private readonly selector: Selector) {}

  /** True for selectors that pick one of several ("left", "second", "biggest"). */
  get picksOne(): boolean {
    return this.selector.kind !== 'all' && this.selector.kind !== 'any';
  }

  /** Ids of every track this selection has followed so far. */
  get followed(): ReadonlySet<number> {
    return this.everChosen;
  }

  /** The tracks of this frame that the phrase means. */
  pick(tracks: readonly Detection[]): Detection[] {
    if (!this.picksOne) return [...tracks];
    let current = tracks.find((t) => t.trackId !== undefined && t.trackId === this.chosen);
    if (current === undefined && tracks.length > 0) {
      current = this.choose(tracks);
      this.chosen = current?.trackId;
      if (this.chosen !== undefined) this.everChosen.add(this.chosen);
    }
    return current === undefined ? [] : [current];
  }

  private choose(tracks: readonly Detection[]): Detection | undefined {
    try {
      const selection = select(tracks, this.selector);
      return selection.kind === 'one' ? selection.detection : undefined;
    } catch (error) {
      // "The second face" with one face in view: not yet, maybe in a later frame.
      if (error instanceof InvalidArgumentError) return undefined;
      throw error;
    }
  }
}
