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

/** The result's boxes: rounded to a tenth of a pixel, scores to three places (what a client can use). */
export function resultBoxes(detections: readonly Detection[]): Box[] {
  const r = (v: number) => Math.round(v * 10) / 10;
  return detections.map((d) => ({
    x1: r(d.x1),
    y1: r(d.y1),
    x2: r(d.x2),
    y2: r(d.y2),
    label: d.label,
    ...(d.unscored ? {} : { score: Math.round(d.score * 1000) / 1000 }),
  }));
}
