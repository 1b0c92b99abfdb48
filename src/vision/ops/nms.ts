import type { Box } from '../../core/types.ts';
import type { Detection } from './detection.ts';

export function boxArea(b: Box): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

export function intersectionOverUnion(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/**
 * Greedy non-maximum suppression, best score first. A box is dropped when a kept box of the same label
 * overlaps it by more than `sameLabelIou`, or a kept box of any label by more than `anyLabelIou`: the
 * detector often scores one object under several classes (the cat at 0.47 is also "dog" at 0.20 on the
 * same box), and one object gets one label. Different objects of different labels overlap far less
 * (a rider and a horse), so they keep both. At most 100 boxes come in: the quadratic loop is free.
 */
export function suppressOverlaps(detections: readonly Detection[], sameLabelIou = 0.5, anyLabelIou = 0.7): Detection[] {
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const candidate of sorted) {
    const overlapped = kept.some((k) => intersectionOverUnion(k, candidate) > (k.label === candidate.label ? sameLabelIou : anyLabelIou));
    if (!overlapped) kept.push(candidate);
  }
  return kept;
}
