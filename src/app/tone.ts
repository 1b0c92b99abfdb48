import type { TurnView } from './bot-api.ts';

export type Tone = NonNullable<TurnView['tone']>;

export interface Message {
  text: string;
  tone: Tone;
}

/** A reply that carries an error reads as one; a question back reads as a question. */
export function toneOf(messages: readonly Message[]): Tone {
  if (messages.some((m) => m.tone === 'error')) return 'error';
  if (messages.some((m) => m.tone === 'question')) return 'question';
  return 'normal';
}
