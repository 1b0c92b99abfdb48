import type { Rule } from './rule.ts';
import { boxIn, cleanPhrase, task } from './rule.ts';

const SEGMENT_VERB = String.raw`(?:segment|mask|select|outline|highlight|trace|circle|(?:make|get|create|give\s+me|generate|find|draw)\s+(?:me\s+)?(?:an?\s+|the\s+)?(?:segmentation\s+)?masks?\s+(?:of|for))`;

const SEGMENT_ALL = [
  new RegExp(
    String.raw`^${SEGMENT_VERB}\s+(?:everything|all|all\s+(?:the\s+)?(?:objects|things|items|stuff)|every\s+(?:object|thing)|each\s+object|the\s+(?:whole\s+|entire\s+)?scene)$`,
    'i',
  ),
  /^(?:segment(?:ation)?|segment\s+(?:all|everything)|panoptic(?:\s+segmentation)?|instance\s+segmentation|semantic\s+segmentation|auto[\s-]?segment|mask\s+everything|masks?\s+for\s+everything)$/i,
];

const PAIR_SOURCE = String.raw`\(?\s*\d+(?:\.\d+)?\s*[,\s]\s*\d+(?:\.\d+)?\s*\)?`;
const AT_POINTS = new RegExp(
  String.raw`^(?:${SEGMENT_VERB}|cut\s+out|click|tap)?\s*(?:the\s+)?(?:object|thing|item|one|what(?:'s|\s+is))?\s*(?:at|around|near|on)\s+(?:the\s+)?(?:(?:point|pixel|position|coordinate|location)s?\s*)?(${PAIR_SOURCE}(?:\s*(?:,|and|;)\s*${PAIR_SOURCE})*)$`,
  'i',
);

const SEGMENT = new RegExp(String.raw`^${SEGMENT_VERB}\s+(.+)$`, 'i');

const CUTOUT_VERB = String.raw`(?:cut\s+out|cutout|extract|isolate|crop\s+out|clip\s+out|separate|lift\s+out|pull\s+out)`;
const CUTOUT_SUBJECT = new RegExp(String.raw`^${CUTOUT_VERB}\s+(.+?)(?:\s+(?:from|off)\s+(?:the\s+)?(?:background|backdrop|bg|rest))?$`, 'i');
const CUTOUT_PLAIN = new RegExp(String.raw`^(?:${CUTOUT_VERB}|cut\s+out|cutout)(?:\s+(?:the\s+)?(?:main\s+)?(?:subject|foreground|object))?$`, 'i');
const BACKGROUND = String.raw`(?:background|backdrop|bg)`;
const REMOVE_BACKGROUND = [
  new RegExp(
    String.raw`^(?:remove|delete|erase|get\s+rid\s+of|drop|strip|take\s+(?:out|away|off)|lose|ditch|kill|nuke|clear|cut|knock\s+out|cut\s+out|white\s+out)\s+(?:the\s+|its\s+)?${BACKGROUND}(?:\s+(?:completely|entirely|fully))?$`,
    'i',
  ),
  new RegExp(String.raw`^(?:make|set|turn)\s+(?:the\s+)?${BACKGROUND}\s+(?:transparent|clear|invisible|see[\s-]?through|empty|alpha)$`, 'i'),
  new RegExp(String.raw`^(?:(?:give|put|place|with)\s+(?:on\s+)?(?:an?\s+)?)?(?:transparent|no|clear)\s+${BACKGROUND}$`, 'i'),
  new RegExp(String.raw`^(?:${BACKGROUND}\s+(?:removal|remover)|remove\s*bg|removebg|png\s+with\s+transparency|transparent\s+png)$`, 'i'),
];
const REMOVE_BACKGROUND_BEHIND = new RegExp(
  String.raw`^(?:remove|delete|erase|get\s+rid\s+of)\s+(?:the\s+)?${BACKGROUND}\s+(?:behind|around|from)\s+(.+)$`,
  'i',
);

function pairs(text: string): [number, number][] {
  return [...text.matchAll(/(\d+(?:\.\d+)?)\s*[,\s]\s*(\d+(?:\.\d+)?)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

export const SEGMENT_RULES: Rule[] = [
  { name: 'segment_all', match: ({ bare }) => (SEGMENT_ALL.some((p) => p.test(bare)) ? task('segment_all') : undefined) },
  {
    name: 'segment_at',
    match: ({ bare }) => {
      const box = boxIn(bare);
      if (box && /^(?:segment|mask|select|outline|cut\s+out|what)/i.test(bare)) return task('segment_at', { box });
      const at = AT_POINTS.exec(bare);
      return at ? task('segment_at', { points: pairs(at[1]!) }) : undefined;
    },
  },
  {
    name: 'cutout',
    match: ({ bare }) => {
      if (REMOVE_BACKGROUND.some((p) => p.test(bare)) || CUTOUT_PLAIN.test(bare)) return task('cutout');
      const behind = REMOVE_BACKGROUND_BEHIND.exec(bare);
      if (behind) return task('cutout', { phrase: cleanPhrase(behind[1]!) });
      const m = CUTOUT_SUBJECT.exec(bare);
      if (!m) return undefined;
      const phrase = cleanPhrase(m[1]!);
      // "extract the text" and "extract the frame" belong to other rules; this one only sees objects.
      if (phrase === '' || /\b(?:text|words|writing|frames?|audio|sound|seconds?|colou?rs?)\b/i.test(phrase)) return undefined;
      return task('cutout', { phrase });
    },
  },
  {
    name: 'segment',
    match: ({ bare }) => {
      const m = SEGMENT.exec(bare);
      if (!m) return undefined;
      const phrase = cleanPhrase(m[1]!);
      return phrase === '' ? undefined : task('segment', { phrase });
    },
  },
];
