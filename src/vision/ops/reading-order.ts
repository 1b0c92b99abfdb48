/** Minimal box shape for ordering. */
export interface Positioned {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/**
 * Groups boxes into lines (a box joins a line when its vertical centre falls inside the line's band) and
 * orders lines top to bottom, boxes left to right: how a person reads a sign or a page.
 */
export function readingOrder<T extends Positioned>(boxes: readonly T[]): T[][] {
  const sorted = [...boxes].sort((a, b) => a.y1 + a.y2 - (b.y1 + b.y2));
  const lines: { top: number; bottom: number; items: T[] }[] = [];
  for (const box of sorted) {
    const centre = (box.y1 + box.y2) / 2;
    const line = lines.find((l) => centre >= l.top && centre <= l.bottom);
    if (line) {
      line.items.push(box);
    } else {
      lines.push({ top: box.y1, bottom: box.y2, items: [box] });
    }
  }
  lines.sort((a, b) => a.top - b.top);
  return lines.map((l) => l.items.sort((a, b) => a.x1 - b.x1));
}
