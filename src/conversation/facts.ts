import type { ConversationFacts } from '../core/types.ts';
import { isUserFacing, type StoredMedia, type Turn } from '../store/types.ts';

/** Turns a language-model planner reads: enough for "it", "the first one" and a pending question, not the whole history. */
export const FACT_TURNS = 8;
/** A long bot reply (a transcript, OCR of a page) is cut: it is context, and every token of it costs. */
const TURN_CHARS = 600;

/**
 * The conversation as a planner may read it: user-facing media by the references a plan uses ("image:2"), what
 * each was made from, which one is current, and the latest words. Pure.
 */
export function conversationFacts(media: readonly StoredMedia[], currentId: string | null, turns: readonly Turn[]): ConversationFacts {
  const visible = media.filter((m) => isUserFacing(m.role) && m.ordinal !== null);
  const refOf = new Map(visible.map((m) => [m.id, `${m.kind}:${m.ordinal}`]));
  return {
    media: visible.map((m) => ({
      ref: refOf.get(m.id)!,
      kind: m.kind,
      width: m.width,
      height: m.height,
      role: m.role,
      ...(m.label ? { label: m.label } : {}),
      ...(m.parentId && refOf.has(m.parentId) ? { madeFrom: refOf.get(m.parentId)! } : {}),
      current: m.id === currentId,
    })),
    turns: turns
      .slice(-FACT_TURNS)
      .map((t) => ({ from: t.author === 'bot' ? 'bot' : 'user', text: t.text.length > TURN_CHARS ? `${t.text.slice(0, TURN_CHARS)}…` : t.text })),
  };
}
