import type { SerializedError } from '../errors.ts';
import type { TextNeed } from '../vision/find/text-needs.ts';

/** What the bot says to its text encoder thread, and what comes back. */

export interface EncodeRequest {
  id: number;
  need: TextNeed;
}

export type FromEncoder =
  | { type: 'ready' }
  /** `values` as float64 so that every packed number (dims, int64 values) crosses exactly; transferred, not copied. */
  | { type: 'encoded'; id: number; result?: { key: string; values: Float64Array } }
  | { type: 'failed'; id: number; error: SerializedError };
