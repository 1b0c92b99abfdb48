/**
 * Tiling for models that see a bounded window (super-resolution): the image is cut into cores that
 * partition it exactly, and each tile the model sees adds an overlap of context around its core, so that
 * pasting only the cores back leaves no seams.
 */

export interface Tile {
  /** What the model sees (core plus overlap, clipped to the image). */
  region: { left: number; top: number; width: number; height: number };
  /** What this tile contributes to the output, in input pixels. */
  core: { left: number; top: number; width: number; height: number };
}

function spans(length: number, tile: number, overlap: number): { start: number; end: number }[] {
  if (length <= tile) return [{ start: 0, end: length }];
  const core = tile - 2 * overlap;
  const count = Math.ceil(length / core);
  const out: { start: number; end: number }[] = [];
  for (let i = 0; i < count; i++) out.push({ start: Math.round((i * length) / count), end: Math.round(((i + 1) * length) / count) });
  return out;
}

/** Cores partition the image exactly; each region adds `overlap` on every inner side. */
export function overlappingTiles(width: number, height: number, tile: number, overlap: number): Tile[] {
  const tiles: Tile[] = [];
  for (const y of spans(height, tile, overlap)) {
    for (const x of spans(width, tile, overlap)) {
      const left = Math.max(0, x.start - overlap);
      const top = Math.max(0, y.start - overlap);
      const right = Math.min(width, x.end + overlap);
      const bottom = Math.min(height, y.end + overlap);
      tiles.push({
        region: { left, top, width: right - left, height: bottom - top },
        core: { left: x.start, top: y.start, width: x.end - x.start, height: y.end - y.start },
      });
    }
  }
  return tiles;
}
