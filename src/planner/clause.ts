/**
 * Takes the chat out of a clause: greetings, "please", "can you", "I'd like you to", "thanks".
 * What remains starts with the instruction itself, which is what the rules expect.
 */

const LEADING_FILLER =
  /^(?:please|pls|plz|ok(?:ay)?|hey(?:\s+there)?|hi|hello|yo|so|now|and|also|then|next|after\s+that|afterwards|finally|alright|all\s+right|well|yes|yeah|yep|sure|cool|great|nice|perfect|awesome|thanks|thank\s+you|thx|hmm+|um+|uh+|oh|ah|bot|vitron|just)\b[\s,!:.-]*/i;
const LEADING_REQUEST =
  /^(?:(?:can|could|would|will|can't|won't)\s+(?:you|u)(?:\s+(?:please|maybe|also|now|just|kindly))*|would\s+you\s+be\s+able\s+to|are\s+you\s+able\s+to|is\s+it\s+possible\s+to|i(?:'d|\s+would)\s+like\s+(?:you\s+)?to|i\s+(?:want|need)\s+(?:you\s+)?to|i\s+wanna|i\s+wish\s+you\s+(?:would|could)|let'?s|let\s+us|go\s+ahead\s+and|try\s+to|try\s+and|help\s+me|kindly|i\s+want\s+to\s+see|you\s+should|(?:tell|show)\s+me(?=\s+(?:what|who|which|where|how|why|when|if|whether)\b)|i\s+(?:want\s+to|would\s+like\s+to|'d\s+like\s+to)\s+know|i\s+wonder|do\s+you\s+know)\b\s*/i;
const TRAILING_FILLER =
  /(?:^|[\s,]+)(?:please|pls|plz|for\s+me|thanks|thank\s+you|thx|if\s+you\s+can|if\s+possible|if\s+you\s+could|right\s+now|now|real\s+quick|quickly|asap|ok\?*|okay\?*)\s*[.!?]*$/i;

export interface CleanClause {
  /** The instruction with chat stripped; original casing, no trailing punctuation. */
  text: string;
  /** The clause reads as a question: it ended in "?" or starts with a question word. */
  question: boolean;
}

const QUESTION_START =
  /^(?:what|what's|whats|who|who's|whom|whose|which|where|where's|when|why|how|how's|is|are|does|do|did|can|could|should|would|will|was|were|has|have|am|isn't|aren't|doesn't)\b/i;

export function cleanClause(raw: string): CleanClause {
  let text = normalizeTypography(raw).trim();
  const question = /\?\s*$/.test(text) || QUESTION_START.test(text);
  text = text.replace(/[.!?…]+$/, '').trim();
  // A replacement that would leave nothing is skipped: "help me" and "stop" are instructions themselves.
  for (let changed = true; changed; ) {
    const before = text;
    for (const pattern of [LEADING_FILLER, LEADING_REQUEST, TRAILING_FILLER]) {
      const next = text.replace(pattern, '').trim();
      if (next !== '') text = next;
    }
    changed = text !== before;
  }
  return { text, question };
}

/** Curly quotes, non-breaking spaces and dashes from phones and rich-text editors. */
export function normalizeTypography(text: string): string {
  return text
    .replace(/[‘’ʼ]/g, "'")
    .replace(/[“”]/g, '"')
    .replace(/[\u00a0\u2000-\u200b]/g, ' ')
    .replace(/[–—]/g, '-')
    .replace(/\s+/g, ' ');
}

/** Nothing left but pleasantries ("thanks!", "ok", "hi"): not an instruction, not a failure either. */
export function isFiller(raw: string): boolean {
  const { text } = cleanClause(raw);
  return (
    text === '' ||
    /^(?:lol|haha+|wow|nice|great|cool|ok(?:ay)?|thanks?|thank\s+you|thx|ty|hi|hello|hey|please|yes|yeah|sure|perfect|awesome|good|so|now|and|then|also)$/i.test(
      text,
    )
  );
}

export function isGreeting(raw: string): boolean {
  return /^\s*(?:hi|hello|hey|yo|good\s+(?:morning|afternoon|evening)|greetings|howdy)(?:\s+(?:there|bot|vitron))?\s*[!.,]*\s*$/i.test(
    normalizeTypography(raw),
  );
}
