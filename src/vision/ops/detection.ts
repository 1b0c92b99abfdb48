import type { Box } from '../../core/types.ts';

/** One thing a detector found: a box in pixels of the image it ran on, with its label and score (0..1). */
export interface Detection extends Box {
  label: string;
  score: number;
  /** The model gives no confidence (Florence-2): `score` is 1 only so that sorting and thresholds keep the box; never shown. */
  unscored?: true;
  /** Stable identity across video frames (set by the tracker); absent on still images. */
  trackId?: number;
}
