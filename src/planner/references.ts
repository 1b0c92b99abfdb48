import type { MediaKind, PlanContext, TargetRef } from '../core/types.ts';

/**
 * Finds the media a clause talks about ("the first image", "the video", "the original", "it") and
 * removes those words, so that what is left ("remove the dog") carries only the instruction and its
 * phrase. Words that mean "the media we are working on" ("it", "this photo") are the *default*
 * reference: they are stripped but produce no explicit target, so a chain can point them at the
 * previous step's output instead of `current`.
 */
export interface References {
  /** Explicitly named targets, in order of appearance; empty means "the default" (it / the current media). */
  targets: TargetRef[];
  /** The clause with explicit references (and the preposition before them) removed. */
  text: string;
  /** `text` with default references ("it", "this", "that", "this photo") removed too: what rules match. */
  bare: string;
}

type ReferenceContext = Pick<PlanContext, 'attachments' | 'currentKind' | 'hasImage' | 'hasVideo' | 'lastBatch'>;

const IMAGE_NOUN = String.raw`(?:image|picture|photo|photograph|pic|img)s?`;
const VIDEO_NOUN = String.raw`(?:video|clip|movie|film|vid|footage|recording)s?`;
const ANY_NOUN = String.raw`(?:one|media|file|upload|attachment)s?`;
/** Adjectives people put between "this" and "photo" that do not change which media is meant. */
const NEUTRAL_ADJECTIVE = String.raw`(?:(?:old|new|same|current|uploaded|edited|last|latest|whole|entire|full|little|black\s+and\s+white|b&w|colou?r|short)\s+)?`;
/** A preposition that belongs to the reference: "remove the dog *from* the first image". */
const PREPOSITION = String.raw`(?:\b(?:in|on|from|of|to|for|into|onto|at|with|inside|within|using|off|over|onto|across)\s+)?`;

const ORDINALS: Record<string, number | 'last'> = {
  first: 1,
  '1st': 1,
  second: 2,
  '2nd': 2,
  third: 3,
  '3rd': 3,
  fourth: 4,
  '4th': 4,
  fifth: 5,
  '5th': 5,
  sixth: 6,
  '6th': 6,
  seventh: 7,
  '7th': 7,
  eighth: 8,
  '8th': 8,
  ninth: 9,
  '9th': 9,
  tenth: 10,
  '10th': 10,
  last: 'last',
  latest: 'last',
  'most recent': 'last',
  newest: 'last',
  final: 'last',
};
const ORDINAL = Object.keys(ORDINALS)
  .sort((a, b) => b.length - a.length)
  .map((o) => o.replace(' ', '\\s+'))
  .join('|');

/**
 * Words after a bare "this"/"that" which show it is a pronoun ("make this brighter") rather than a
 * determiner ("remove that dog", where the words belong to the phrase and are left alone).
 */
const AFTER_PRONOUN = String.raw`(?:to|into|by|in|on|with|at|from|as|so|more|less|much|a|an|the|look|looks|up|down|out|off|back|backwards|again|and|then|please|for|half|twice|double|one|is|was|\d|brighter|darker|lighter|sharper|smaller|bigger|larger|faster|slower|black|gr[ae]y|sepia|clockwise|counter|anti|left|right|horizontally|vertically)\b`;

interface Pattern {
  regex: RegExp;
  /**
   * The target meant by a match. Undefined means the default reference: it is removed from `bare` only,
   * so free-form prompts keep "make *this photo* look like winter".
   */
  resolve(match: RegExpExecArray, context: ReferenceContext): TargetRef | undefined;
}

const PATTERNS: Pattern[] = [
  {
    regex: new RegExp(String.raw`${PREPOSITION}\bthe\s+(?:last|latest|most\s+recent|newest)\s+one\b`, 'gi'),
    // "the last one" is the newest media of any kind, which is not always what "it" means (after an undo).
    resolve: () => 'media:last',
  },
  {
    // "the" is required: "a 5 second video" is a length, not the second video.
    regex: new RegExp(String.raw`${PREPOSITION}\b(?:the|my|your)\s+(${ORDINAL})\s+(?:(${IMAGE_NOUN})|(${VIDEO_NOUN})|(${ANY_NOUN}))\b`, 'gi'),
    resolve: (m) => {
      const ordinal = ORDINALS[m[1]!.toLowerCase().replace(/\s+/g, ' ')]!;
      const kind = m[2] ? 'image' : m[3] ? 'video' : 'media';
      return `${kind}:${ordinal}`;
    },
  },
  {
    // "image 2", "photo #3", "video number 2". Without "#"/"number" only one digit counts, because
    // "rotate the image 90" is an angle, not the 90th image.
    regex: new RegExp(
      String.raw`${PREPOSITION}\b(?:the\s+)?(?:(${IMAGE_NOUN})|(${VIDEO_NOUN}))\s*(?:(?:#|no\.?\s*|number\s*)(\d{1,3})|(\d))(?![\d.:]|\s*(?:px|pixels?|wide|tall|high|x\b|×|%|degrees?|°|times|seconds?|s\b))`,
      'gi',
    ),
    resolve: (m) => `${m[1] ? 'image' : 'video'}:${m[3] ?? m[4]}`,
  },
  {
    // "the other photo": the picture of the conversation that is not the one we are working on (see
    // conversation/references.ts, which asks "which one?" when there are several others).
    regex: new RegExp(String.raw`${PREPOSITION}\bthe\s+other\s+(?:(${IMAGE_NOUN})|(${VIDEO_NOUN})|(${ANY_NOUN}))\b`, 'gi'),
    resolve: (m) => `${m[1] ? 'image' : m[2] ? 'video' : 'media'}:other`,
  },
  {
    regex: new RegExp(String.raw`${PREPOSITION}\b(?:the\s+|my\s+)?original(?:\s+(?:${IMAGE_NOUN}|${VIDEO_NOUN}|${ANY_NOUN}|version))?\b`, 'gi'),
    resolve: () => 'original',
  },
  {
    regex: new RegExp(
      String.raw`${PREPOSITION}\bthe\s+(?:(?:previous|prior|earlier|former)(?:\s+(?:${IMAGE_NOUN}|${VIDEO_NOUN}|${ANY_NOUN}|version|result|edit))?|one\s+before(?:\s+(?:that|this|it))?)\b`,
      'gi',
    ),
    resolve: () => 'previous',
  },
  {
    regex: new RegExp(
      String.raw`${PREPOSITION}\bthe\s+(?:upload(?:ed\s+(?:${IMAGE_NOUN}|${VIDEO_NOUN}|file|one))?|attachment|attached\s+(?:${IMAGE_NOUN}|${VIDEO_NOUN}|file|one)|one\s+i\s+(?:just\s+)?(?:uploaded|sent|attached|posted|shared))\b`,
      'gi',
    ),
    // In a later turn "the one I uploaded" is the upload the current media descends from.
    resolve: (_m, context) => (context.attachments.length > 0 ? 'upload' : 'original'),
  },
  {
    regex: new RegExp(String.raw`${PREPOSITION}\b(the|this|that|my|your)\s+${NEUTRAL_ADJECTIVE}${VIDEO_NOUN}\b`, 'gi'),
    resolve: (m, context) => {
      if (context.attachments[0] === 'video') return undefined;
      const demonstrative = /^(?:this|that)$/i.test(m[1]!);
      // "this video" is the one we are looking at; "the video" is the conversation's latest video.
      if (demonstrative && context.currentKind === 'video') return undefined;
      return 'video:last';
    },
  },
  {
    regex: new RegExp(String.raw`${PREPOSITION}\b(?:the|this|that|my|your)\s+${NEUTRAL_ADJECTIVE}${IMAGE_NOUN}\b`, 'gi'),
    resolve: (_m, context) => {
      if (context.attachments[0] === 'image') return undefined;
      const imageElsewhere = context.hasImage || context.attachments.includes('image');
      return context.currentKind === 'video' && imageElsewhere ? 'image:last' : undefined;
    },
  },
];

const DEFAULT_PATTERNS: RegExp[] = [
  new RegExp(String.raw`${PREPOSITION}\b(?:this|that)\s+one\b`, 'gi'),
  new RegExp(String.raw`${PREPOSITION}\bit\b(?!['’])`, 'gi'),
  new RegExp(String.raw`${PREPOSITION}\b(?:this|that)\b(?=\s*(?:$|[,.;:!?]|${AFTER_PRONOUN}))`, 'gi'),
];

/** Blanking keeps every other match's index valid, so targets can be ordered by where they appeared. */
function blank(text: string, start: number, length: number): string {
  return text.slice(0, start) + ' '.repeat(length) + text.slice(start + length);
}

export function tidy(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .replace(/\s+([,.;:!?])/g, '$1')
    .replace(/^[\s,;:]+|[\s,;:]+$/g, '')
    .trim();
}

/**
 * After a grid (PlanContext.lastBatch), "the second one", "number 3" and "the last one" are its pictures, as
 * the grid numbers them; "image 2" and "the second image" keep meaning the conversation's image #2, the name
 * the bot gives every picture. A number beyond the batch is not about it and is read as before.
 */
const BATCH_PATTERNS: { regex: RegExp; which(m: RegExpExecArray, size: number): number | undefined }[] = [
  {
    regex: new RegExp(String.raw`${PREPOSITION}\b(?:the\s+)?(${ORDINAL})\s+(?:one|pic|picture)\b`, 'gi'),
    which: (m, size) => {
      const ordinal = ORDINALS[m[1]!.toLowerCase().replace(/\s+/g, ' ')]!;
      return ordinal === 'last' ? size : ordinal;
    },
  },
  {
    regex: new RegExp(String.raw`${PREPOSITION}(?<!\b(?:${IMAGE_NOUN}|${VIDEO_NOUN})\s*)(?:\bnumber\s*|\bno\.\s*|#\s*)(\d{1,2})\b`, 'gi'),
    which: (m) => Number(m[1]),
  },
];

/** Midjourney's buttons typed as text: "U2" upscales picture 2 of the grid, "V3" makes variations of picture 3. */
const GRID_BUTTON = /^\s*([uv])\s*#?\s*(\d)\s*$/i;

function batchReferences(clause: string, size: number): { text: string; found: { index: number; target: TargetRef }[] } {
  const button = GRID_BUTTON.exec(clause);
  if (button && Number(button[2]) >= 1 && Number(button[2]) <= size) {
    return { text: button[1]!.toLowerCase() === 'u' ? 'upscale' : 'vary', found: [{ index: 0, target: `batch:${button[2]}` }] };
  }
  let text = clause;
  const found: { index: number; target: TargetRef }[] = [];
  for (const pattern of BATCH_PATTERNS) {
    for (const match of [...text.matchAll(pattern.regex)]) {
      const n = pattern.which(match, size);
      if (n === undefined || n < 1 || n > size) continue;
      found.push({ index: match.index, target: `batch:${n}` });
      text = blank(text, match.index, match[0].length);
    }
  }
  return { text, found };
}

export function resolveReferences(clause: string, context: ReferenceContext): References {
  const size = context.lastBatch ?? 0;
  const batch = size >= 2 ? batchReferences(clause, size) : { text: clause, found: [] };
  // Both strings keep the clause's length, so indexes found in one are valid in the other.
  let text = batch.text;
  let bare = batch.text;
  const found: { index: number; target: TargetRef }[] = [...batch.found];
  for (const pattern of PATTERNS) {
    const matches = [...bare.matchAll(pattern.regex)];
    for (const match of matches) {
      const target = pattern.resolve(match, context);
      bare = blank(bare, match.index, match[0].length);
      if (target === undefined) continue;
      found.push({ index: match.index, target });
      text = blank(text, match.index, match[0].length);
    }
  }
  for (const regex of DEFAULT_PATTERNS) bare = bare.replace(regex, (s) => ' '.repeat(s.length));
  const targets = [...new Set(found.sort((a, b) => a.index - b.index).map((f) => f.target))];
  return { targets, text: tidy(text), bare: tidy(bare) };
}

/** The kind a target names by itself, when it does (`image:2` → image); undefined for `current` etc. */
export function kindNamedBy(target: TargetRef): MediaKind | undefined {
  if (target.startsWith('image:')) return 'image';
  if (target.startsWith('video:')) return 'video';
  if (target.startsWith('batch:')) return 'image';
  return undefined;
}
