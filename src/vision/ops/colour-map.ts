import type { RawImage } from './raw-image.ts';

/**
 * Turbo (Google's perceptually ordered rainbow, dark blue → green → red) as a 256-entry RGB table, from
 * Mikhailov's published polynomial fit: computed once at load, a lookup per pixel after that.
 */
export const TURBO: Uint8Array = (() => {
  const r = [0.13572138, 4.6153926, -42.66032258, 132.13108234, -152.94239396, 59.28637943];
  const g = [0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604];
  const b = [0.1066733, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973];
  const poly = (k: number[], x: number) => k.reduce((sum, c, i) => sum + c * x ** i, 0);
  const table = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const x = i / 255;
    for (const [c, k] of [r, g, b].entries()) table[i * 3 + c] = Math.round(Math.min(1, Math.max(0, poly(k, x))) * 255);
  }
  return table;
})();

/** An 8-bit depth map through the colour table → RGB. */
export function colourMap(grey: Uint8Array, width: number, height: number, table: Uint8Array = TURBO): RawImage {
  const data = Buffer.allocUnsafe(width * height * 3);
  for (let i = 0, o = 0; i < grey.length; i++, o += 3) {
    const t = grey[i]! * 3;
    data[o] = table[t]!;
    data[o + 1] = table[t + 1]!;
    data[o + 2] = table[t + 2]!;
  }
  return { data, width, height, channels: 3 };
}
