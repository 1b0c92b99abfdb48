import { boxArea, intersectionOverUnion } from './nms.ts';
import type { Detection } from './detection.ts';

/**
 * MediaPipe's "weighted" non-maximum suppression, which its face graphs use: the best box and every box
 * overlapping it by more than `iou` form a cluster; the cluster becomes one box whose corners are the
 * score-weighted mean of its members, with the best member's score. Neighbouring anchors all fire on one
 * face, and their average is steadier than any single one (which also keeps video boxes from jittering).
 * A weaker box that mostly contains the best one, or lies mostly inside it, is the same face seen at
 * another scale (a tile and the whole image, or chin and collar taken for a bigger face): it is dropped,
 * not averaged in, so it neither counts as a second face nor drags the box off.
 */
export function weightedSuppression(candidates: readonly Detection[], iou = 0.3, containment = 0.7): Detection[] {
  const remaining = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  while (remaining.length > 0) {
    const best = remaining[0]!;
    const cluster: Detection[] = [];
    const rest: Detection[] = [];
    for (const candidate of remaining) {
      if (candidate === best || intersectionOverUnion(best, candidate) > iou) cluster.push(candidate);
      else if (overlapOfSmaller(best, candidate) <= containment) rest.push(candidate);
    }
    let total = 0;
    const sum = { x1: 0, y1: 0, x2: 0, y2: 0 };
    for (const member of cluster) {
      total += member.score;
      sum.x1 += member.x1 * member.score;
      sum.y1 += member.y1 * member.score;
      sum.x2 += member.x2 * member.score;
      sum.y2 += member.y2 * member.score;
    }
    kept.push({ ...best, x1: sum.x1 / total, y1: sum.y1 / total, x2: sum.x2 / total, y2: sum.y2 / total });
    remaining.splice(0, remaining.length, ...rest);
  }
  return kept;
}

/** Intersection over the smaller box's area: 1 when one box lies wholly inside the other. */
function overlapOfSmaller(a: Detection, b: Detection): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / Math.max(1e-9, Math.min(boxArea(a), boxArea(b)));
}
