import type { Rule, RuleInput } from './rule.ts';
import { boxIn, cleanPhrase, task } from './rule.ts';

/** Questions keep their wording, with a question mark, because the answering model reads them as asked. */
export function asQuestion(asked: string): string {
  const q = asked.trim().replace(/[.!…]+$/, '');
  // "describe the dog" is a request, not a question: it keeps its full stop-less form.
  return q.endsWith('?') || /^(?:describe|tell\s+me|explain|list|name)\b/i.test(q) ? q : `${q}?`;
}

/** Detection phrases name a kind of thing ("faces"), not one of them: "find all the faces" → "faces". */
function detectPhrase(phrase: string): string {
  return cleanPhrase(phrase)
    .replace(/^(?:all\s+(?:of\s+)?(?:the\s+)?|the\s+|any\s+|every\s+|each\s+|some\s+)/i, '')
    .trim();
}

const EVERYTHING =
  /^(?:everything|all|objects|things|items|stuff|anything|all\s+(?:the\s+)?(?:objects|things|items|stuff)|every\s+(?:object|thing)|what(?:'s|\s+is)\s+there)$/i;

const OCR = [
  /^what\s+(?:does|do)\b.*\bsay$/i,
  /^what(?:'s|\s+is|\s+are)\s+(?:written|printed|the\s+text|the\s+words|the\s+writing)\b/i,
  /^(?:read|transcribe|ocr|scan)\b(?!\s+(?:me\s+)?(?:a|the)\s+(?:story|book|poem))/i,
  /^(?:extract|get|copy|pull|grab|find|detect|recognize|recognise|give\s+me)\s+(?:out\s+)?(?:the\s+|all\s+(?:the\s+)?|any\s+)?(?:text|words|writing|letters|numbers|characters)\b/i,
  /^(?:is\s+there|are\s+there)\s+(?:any\s+)?(?:text|writing|words)\b/i,
  /^what\s+(?:text|words|language|number|numbers|letters)\b.*\b(?:written|say|is|are|printed|shown|on|in)\b/i,
];

const COUNT = [
  /^how\s+many\s+(.+?)(?:\s+(?:are|is)\s+there|\s+there\s+(?:are|is)|\s+(?:are|is)\s+(?:in|on|visible|shown|present|here)\b.*|\s+(?:do|can)\s+(?:you|i)\s+(?:see|count|find|spot)|\s+(?:are|is)|\s+appear|\s+in\s+total)?$/i,
  /^count\s+(?:the\s+number\s+of\s+|how\s+many\s+|up\s+)?(.*?)(?:\s+(?:there\s+are|are\s+there))?$/i,
  /^(?:what(?:'s|\s+is)\s+)?the\s+number\s+of\s+(.+)$/i,
];

const DETECT =
  /^(?:find|detect|spot|identify|box|mark|tag|locate\s+(?:all|every|each)|point\s+out\s+(?:all|every|each)|draw\s+(?:bounding\s+)?box(?:es)?\s+(?:around|on)|put\s+(?:bounding\s+)?box(?:es)?\s+(?:around|on)|list)\s+(.+)$/i;
const DETECT_EVERYTHING =
  /^(?:what\s+objects\s+(?:are|do\s+you\s+see)|(?:detect|find|list|identify)\s+(?:all\s+)?(?:the\s+)?objects|object\s+detection|detect)\b/i;

const GROUND = [
  /^where(?:'s|\s+is|\s+are|\s+was|\s+were|\s+exactly\s+is|\s+do\s+you\s+see|\s+can\s+i\s+find)\s+(.+?)(?:\s+(?:located|situated|standing|sitting|hiding|placed))?$/i,
  /^(?:show\s+(?:me\s+)?|tell\s+me\s+)?where\s+(.+?)\s+(?:is|are)(?:\s+(?:located|situated))?$/i,
  /^(?:locate|point\s+(?:to|at|out)|pinpoint|which\s+one\s+is)\s+(.+)$/i,
  // Only a definite phrase: "show me a cat" asks for a new picture, "show me the cat" for a location.
  /^show\s+me\s+((?:the|his|her|their|my|its)\s+.+)$/i,
];

const CAPTION = [
  /^(?:describe|caption|summari[sz]e|explain|narrate)(?:\s+(?:what(?:'s|\s+is)\s+(?:in|on|happening|going\s+on)|what\s+you\s+see|what\s+happens|the\s+scene|everything))?(?:\s+(?:in\s+(?:detail|depth|a\s+few\s+words|one\s+sentence|short|brief)|briefly|thoroughly|fully|for\s+me))*$/i,
  /^what(?:'s|s|\s+is|\s+are)(?:\s+(?:in|on|going\s+on|happening|shown|depicted|here|there|inside))?(?:\s+(?:in|on|here|there))?$/i,
  /^what\s+(?:do|can)\s+you\s+see(?:\s+(?:in|on|here|there))?$/i,
  /^what\s+(?:am\s+i|are\s+we)\s+(?:looking\s+at|seeing)$/i,
  /^what\s+happens(?:\s+(?:in|here))?$/i,
  /^tell\s+me\s+(?:about|what(?:'s|\s+is)\s+(?:in|on|happening|going\s+on))?$/i,
  /^(?:give\s+me|write|generate|make|create|suggest)\s+(?:a\s+|an\s+)?(?:short\s+|detailed\s+|brief\s+|long\s+|good\s+)?(?:caption|description|summary|alt[\s-]*text)(?:\s+for)?$/i,
  /^(?:caption|description|summary|alt[\s-]*text)$/i,
];

function captionDetail(raw: string): Record<string, unknown> {
  if (/\b(?:in\s+detail|detailed|in\s+depth|thoroughly|fully|long|everything)\b/i.test(raw)) return { detail: 'detailed' };
  if (/\b(?:brief(?:ly)?|short|one\s+sentence|a\s+few\s+words|quick(?:ly)?|in\s+a\s+word)\b/i.test(raw)) return { detail: 'short' };
  return {};
}

function firstGroup(patterns: RegExp[], text: string): string | undefined {
  for (const pattern of patterns) {
    const m = pattern.exec(text);
    if (m) return m[1] ?? '';
  }
  return undefined;
}

const QUESTION_WORD =
  /^(?:what|what's|whats|who|who's|whom|whose|which|where|when|why|how|is|are|does|do|did|can|could|should|would|will|was|were|has|have|isn't|aren't|doesn't|tell\s+me|describe)\b/i;

export const UNDERSTAND_RULES: Rule[] = [
  {
    name: 'ocr',
    match: ({ bare, asked, question }) => (OCR.some((p) => p.test(bare)) ? task('ocr', question ? { question: asQuestion(asked) } : {}) : undefined),
  },
  {
    name: 'count',
    match: ({ bare }) => {
      const phrase = firstGroup(COUNT, bare);
      if (phrase === undefined) return undefined;
      const p = detectPhrase(phrase);
      return task('detect', p === '' || EVERYTHING.test(p) ? { count: true } : { phrase: p, count: true });
    },
  },
  {
    name: 'detect',
    match: ({ bare }) => {
      const m = DETECT.exec(bare);
      if (m) {
        const p = detectPhrase(m[1]!);
        return task('detect', p === '' || EVERYTHING.test(p) ? {} : { phrase: p });
      }
      return DETECT_EVERYTHING.test(bare) ? task('detect') : undefined;
    },
  },
  {
    name: 'ground',
    match: ({ bare }) => {
      const phrase = firstGroup(GROUND, bare);
      const p = phrase === undefined ? '' : cleanPhrase(phrase);
      return p === '' ? undefined : task('ground', { phrase: p });
    },
  },
  {
    name: 'caption',
    match: ({ bare, raw }) => (CAPTION.some((p) => p.test(bare)) ? task('caption', captionDetail(raw)) : undefined),
  },
];

const REGION_QUESTION =
  /^(?:what(?:'s|s|\s+is|\s+are)\s+(?:in|inside|within|at)|what\s+(?:do|can)\s+you\s+see\s+in|describe|caption|tell\s+me\s+about|explain)\s+(?:the\s+|this\s+|that\s+)?(?:box|rectangle|region|area|rect)\b/i;

/**
 * "What is in the box 10,20,200,180?", "describe the region 0,0 to 100,100": a caption of that region. It
 * runs before the segment rules, which would otherwise read a box after "what" as a point prompt.
 */
export const REGION_CAPTION_RULE: Rule = {
  name: 'caption_region',
  match: ({ bare, raw }) => {
    if (!REGION_QUESTION.test(bare)) return undefined;
    const box = boxIn(bare);
    return box === undefined ? undefined : task('caption', { ...captionDetail(raw), box });
  },
};

/**
 * Any other question about the media goes to the answering model as asked ("what colour is the car?",
 * "describe the dog"). It runs after every other rule, so "can you make it brighter?" is a command.
 */
export const ANSWER_RULE: Rule = {
  name: 'answer',
  match: ({ bare, asked, question }: RuleInput) => {
    if (bare === '') return undefined;
    if (!question && !/^(?:describe|tell\s+me|explain)\b/i.test(bare)) return undefined;
    if (!QUESTION_WORD.test(asked.trim()) && !/\?\s*$/.test(asked)) return undefined;
    return task('answer', { question: asQuestion(asked) });
  },
};
