import type { RawImage } from '../../ops/raw-image.ts';

/**
 * Temporal consistency of a frame-by-frame edit, measured rather than hoped for: the mean absolute change
 * between consecutive frames (RGB, 0..255 levels) of the edited video against the same figure for the
 * source. A consistent edit moves between frames about as much as the source does; an image model run on
 * each frame reinvents fine texture every time, and that extra change is what viewers see as flicker.
 *
 * Flicker is called likely when the output changes at least FLICKER_RATIO times as much as the input AND by
 * at least FLICKER_MIN_LEVELS more: the ratio alone would flag a nearly static source (input change ≈ 0.3
 * levels) for H.264's own noise of a level or two, so the absolute margin sits just above what re-encoding
 * an unchanged clip adds (about 1–2 levels at the bot's crf 20).
 */
export const FLICKER_RATIO = 1.5;
export const FLICKER_MIN_LEVELS = 3;

export interface FrameChange {
  /** Mean absolute change between consecutive source frames, in levels of 255. */
  input: number;
  /** The same for the edited frames. */
  output: number;
  /** output / input (Infinity when the source does not change at all and the output does). */
  ratio: number;
  /** Frame pairs measured. */
  pairs: number;
  flickerLikely: boolean;
}

/** Mean absolute RGB difference of two same-sized frames (3 or 4 channels; alpha ignored). */
export function meanAbsoluteChange(a: RawImage, b: RawImage): number {
  if (a.width !== b.width || a.height !== b.height || a.channels !== b.channels) throw new RangeError('frames of different sizes cannot be compared');
  const { data: x } = a;
  const { data: y } = b;
  const step = a.channels;
  let sum = 0;
  let count = 0;
  for (let i = 0; i < x.length; i += step) {
    sum += Math.abs(x[i]! - y[i]!) + Math.abs(x[i + 1]! - y[i + 1]!) + Math.abs(x[i + 2]! - y[i + 2]!);
    count += 3;
  }
  return count === 0 ? 0 : sum / count;
}

/** Feed it each source frame with its edited frame, in order; `result()` gives the figures. */
export class FrameChangeMeter {
  private previous: { input: RawImage; output: RawImage } | undefined;
  private inputSum = 0;
  private outputSum = 0;
  private pairs = 0;

  add(input: RawImage, output: RawImage): void {
    if (this.previous !== undefined) {
      this.inputSum += meanAbsoluteChange(this.previous.input, input);
      this.outputSum += meanAbsoluteChange(this.previous.output, output);
      this.pairs += 1;
    }
    // Frames from ffmpeg's pipe are fresh buffers each time, so keeping references is safe.
    this.previous = { input, output };
  }

  result(): FrameChange {
    const input = this.pairs === 0 ? 0 : this.inputSum / this.pairs;
    const output = this.pairs === 0 ? 0 : this.outputSum / this.pairs;
    const ratio = input > 0 ? output / input : output > 0 ? Number.POSITIVE_INFINITY : 1;
    return { input, output, ratio, pairs: this.pairs, flickerLikely: output >= FLICKER_RATIO * input && output - input >= FLICKER_MIN_LEVELS };
  }
}

/** The reply's sentence about it, with the numbers, so the user can judge. */
export function consistencySentence(change: FrameChange): string {
  if (change.pairs === 0) return 'The video has one frame, so there is no flicker to measure.';
  const fmt = (v: number) => (Math.round(v * 10) / 10).toFixed(1);
  const figures = `frame-to-frame change ${fmt(change.output)} levels against the original's ${fmt(change.input)}`;
  return change.flickerLikely
    ? `Flicker is likely: each frame was edited on its own and the result changes much more between frames than the original does (${figures}). A ComfyUI video workflow (video_to_video.json) edits the clip as a whole and avoids it.`
    : `The frames stay consistent: ${figures}.`;
}
