/**
 * Connected components of a thresholded score map (4-connectivity) with a typed-array flood fill: no
 * per-pixel objects, no separate binary map, one visited array, one explicit stack.
 */

export interface Component {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Pixels in the component. */
  area: number;
  /** Sum of the score map over the component's pixels (for a mean score). */
  scoreSum: number;
}

// Scratch for the flood fill, grown on demand and reused: the function is synchronous, so no two calls
// share them, and fresh arrays per call (two per map pixel) cost more than the fill on a 960×448 map.
let seen = new Uint8Array(0);
let stack = new Int32Array(0);

/** Components of the pixels where `score` > `threshold`. */
export function connectedComponents(score: Float32Array, threshold: number, width: number, height: number, maxComponents = 1000): Component[] {
  const n = width * height;
  if (seen.length < n) {
    seen = new Uint8Array(n);
    stack = new Int32Array(n);
  } else {
    seen.fill(0, 0, n);
  }
  const out: Component[] = [];
  for (let start = 0; start < n; start++) {
    if (seen[start] !== 0 || !(score[start]! > threshold)) continue;
    let top = 0;
    stack[top++] = start;
    seen[start] = 1;
    let x1 = width,
      y1 = height,
      x2 = -1,
      y2 = -1,
      area = 0,
      scoreSum = 0;
    while (top > 0) {
      const p = stack[--top]!;
      const y = (p / width) | 0;
      const x = p - y * width;
      if (x < x1) x1 = x;
      if (x > x2) x2 = x;
      if (y < y1) y1 = y;
      if (y > y2) y2 = y;
      area += 1;
      scoreSum += score[p]!;
      if (x > 0 && seen[p - 1] === 0 && score[p - 1]! > threshold) {
        seen[p - 1] = 1;
        stack[top++] = p - 1;
      }
      if (x < width - 1 && seen[p + 1] === 0 && score[p + 1]! > threshold) {
        seen[p + 1] = 1;
        stack[top++] = p + 1;
      }
      if (y > 0 && seen[p - width] === 0 && score[p - width]! > threshold) {
        seen[p - width] = 1;
        stack[top++] = p - width;
      }
      if (y < height - 1 && seen[p + width] === 0 && score[p + width]! > threshold) {
        seen[p + width] = 1;
        stack[top++] = p + width;
      }
    }
    out.push({ x1, y1, x2, y2, area, scoreSum });
    if (out.length >= maxComponents) break;
  }
  return out;
}
