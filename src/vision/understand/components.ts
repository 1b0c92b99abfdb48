/**
 * Connected components of a binary map (4-connectivity) with a typed-array flood fill: no per-pixel
 * objects, one label array, one explicit stack.
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

export function connectedComponents(bitmap: Uint8Array, score: Float32Array, width: number, height: number, maxComponents = 1000): Component[] {
  const labels = new Int32Array(width * height);
  const stack = new Int32Array(width * height);
  const out: Component[] = [];
  let next = 0;
  for (let start = 0; start < bitmap.length; start++) {
    if (bitmap[start] === 0 || labels[start] !== 0) continue;
    next += 1;
    let top = 0;
    stack[top++] = start;
    labels[start] = next;
    let x1 = width, y1 = height, x2 = -1, y2 = -1, area = 0, scoreSum = 0;
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
      if (x > 0 && bitmap[p - 1] !== 0 && labels[p - 1] === 0) { labels[p - 1] = next; stack[top++] = p - 1; }
      if (x < width - 1 && bitmap[p + 1] !== 0 && labels[p + 1] === 0) { labels[p + 1] = next; stack[top++] = p + 1; }
      if (y > 0 && bitmap[p - width] !== 0 && labels[p - width] === 0) { labels[p - width] = next; stack[top++] = p - width; }
      if (y < height - 1 && bitmap[p + width] !== 0 && labels[p + width] === 0) { labels[p + width] = next; stack[top++] = p + width; }
    }
    out.push({ x1, y1, x2, y2, area, scoreSum });
    if (out.length >= maxComponents) break;
  }
  return out;
}
