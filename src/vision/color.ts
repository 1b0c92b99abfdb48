import sharp from 'sharp';
import { InvalidArgumentError } from '../errors.ts';

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

/**
 * Any CSS colour ("white", "#1e90ff", "rgb(10,20,30)") to RGB. sharp already carries a CSS colour parser
 * (@img/colour), so we ask it rather than keep a second table of colour names.
 */
export async function parseColor(value: unknown, argName: string): Promise<Rgb> {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidArgumentError(`Expected a CSS colour name or hex code for ${argName} but received ${JSON.stringify(value)}.`, { arg: argName });
  }
  try {
    const px = await sharp({ create: { width: 1, height: 1, channels: 3, background: value.trim().toLowerCase() } }).raw().toBuffer();
    return { r: px[0]!, g: px[1]!, b: px[2]! };
  } catch {
    throw new InvalidArgumentError(
      `Expected a CSS colour name or hex code for ${argName} (like "white" or "#1e90ff") but received ${JSON.stringify(value)}.`,
      { arg: argName },
    );
  }
}

export function colorLabel(value: string): string {
  return value.trim().toLowerCase();
}
