import type { Box } from '../../core/types.ts';

/**
 * Where a box is, in the words people use: "on the left, lower half", "in the centre", "filling most of
 * the picture". Thirds across, halves (with a middle band) down: finer words read as false precision.
 */
export function positionWords(box: Box, width: number, height: number): string {
  const w = box.x2 - box.x1;
  const h = box.y2 - box.y1;
  if (w * h >= 0.6 * width * height) return 'filling most of the picture';
  const cx = (box.x1 + box.x2) / 2 / width;
  const cy = (box.y1 + box.y2) / 2 / height;
  const across = cx < 1 / 3 ? 'on the left' : cx > 2 / 3 ? 'on the right' : 'in the middle';
  const down = cy < 0.4 ? 'upper half' : cy > 0.6 ? 'lower half' : undefined;
  if (down === undefined) return across === 'in the middle' ? 'in the centre' : across;
  return `${across}, ${down}`;
}

/** "(x 12–200, y 40–300 px)": the box as integers, for people who want to crop by hand. */
export function boxInPixels(box: Box): string {
  const r = Math.round;
  return `x ${r(box.x1)}–${r(box.x2)}, y ${r(box.y1)}–${r(box.y2)} px`;
}
