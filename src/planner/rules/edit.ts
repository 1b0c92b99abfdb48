import { parseColor } from '../colors.ts';
import { FACTOR_SOURCE, NUMBER_SOURCE, parseFactor } from '../numbers.ts';
import type { Task } from '../../core/tasks.ts';
import type { PlanContext, TargetRef } from '../../core/types.ts';
import { COLORIZE_RULE } from './colorize.ts';
import type { Rule, RuleInput, RuleOutcome } from './rule.ts';
import { cleanPhrase, invalid, task, withoutArticle } from './rule.ts';

const BACKGROUND = String.raw`(?:background|backdrop|bg|backgrounds)`;

/** A background is a colour when the words name one, otherwise a scene for the generator to paint. */
function backgroundFrom(words: string): RuleOutcome | undefined {
  const w = cleanPhrase(words).replace(/\s+(?:instead|one)$/i, '');
  if (w === '') return undefined;
  // A transparent background is no background at all: that is a cutout.
  if (/^(?:transparent|clear|invisible|see[\s-]?through|empty|none|nothing|alpha)$/i.test(w)) return task('cutout');
  const color = parseColor(w);
  return color ? task('background', { color }) : task('background', { prompt: w });
}

const BG_BLUR = [
  new RegExp(String.raw`^(?:blur|soften|defocus|bokeh|fade)\s+(?:out\s+)?(?:the\s+)?${BACKGROUND}\b(.*)$`, 'i'),
  new RegExp(String.raw`^(?:make|get|have)\s+(?:the\s+)?${BACKGROUND}\s+(?:blurry|blurred|out\s+of\s+focus|soft|fuzzy|bokeh)\b(.*)$`, 'i'),
  new RegExp(
    String.raw`^(?:add|apply|give|use|with)?\s*(?:an?\s+|some\s+)?(?:${BACKGROUND}\s+blur|bokeh(?:\s+effect)?|portrait\s+(?:mode|effect)|(?:blurry|blurred)\s+${BACKGROUND}|(?:shallow\s+)?depth\s+of\s+field)\b(.*)$`,
    'i',
  ),
];
const BG_PUT = new RegExp(
  String.raw`^(?:put|place|set|paste|show|move|stick)\s+(?:.+?\s+)?(?:on|onto|against|in\s+front\s+of|over)\s+(?:an?\s+|the\s+)?(.+?)\s+${BACKGROUND}$`,
  'i',
);
const BG_CHANGE = new RegExp(
  String.raw`^(?:change|make|turn|set|switch|replace|swap|paint|colou?r)\s+(?:the\s+|its\s+)?${BACKGROUND}(?:\s+colou?r)?\s+(?:to\s+|into\s+|with\s+|for\s+|as\s+|by\s+)?(?:an?\s+)?(.+)$`,
  'i',
);
const BG_NOUN = new RegExp(String.raw`^(?:(?:give|add|use|want|with|new)\s+)?(?:an?\s+|the\s+)?(.+?)\s+${BACKGROUND}(?:\s+(?:instead|behind|please))?$`, 'i');
/** "put it on a beach": the object was a pronoun, so what follows is where it goes. */
const BG_PLACE = /^(?:put|place|move|send|teleport|transport|drop)\s+(?:on|in|at|into|onto|to)\s+(.+)$/i;

function background({ bare }: RuleInput): RuleOutcome | undefined {
  for (const pattern of BG_BLUR) {
    const m = pattern.exec(bare);
    if (!m) continue;
    const rest = m[1] ?? '';
    const number = /(\d+(?:\.\d+)?)/.exec(rest);
    const blur = number
      ? Number(number[1])
      : /\b(?:a\s+lot|much|heavily|strongly|very|really)\b/i.test(rest)
        ? 20
        : /\b(?:slightly|a\s+(?:little\s+)?bit|a\s+little|subtly)\b/i.test(rest)
          ? 5
          : 10;
    return blur > 0 ? task('background', { blur }) : invalid('background', 'The background blur has to be more than 0.');
  }
  const put = BG_PUT.exec(bare);
  if (put) return backgroundFrom(put[1]!);
  const change = BG_CHANGE.exec(bare);
  if (change) return backgroundFrom(change[1]!);
  const noun = BG_NOUN.exec(bare);
  // "a blue background" is a colour; "a beach background" needs a verb ("give it a beach background").
  if (noun && (parseColor(noun[1]!) || /^(?:give|add|use|want|with|new)\b/i.test(bare))) return backgroundFrom(noun[1]!);
  const place = BG_PLACE.exec(bare);
  if (place && !/^(?:a|the)\s+(?:hat|frame|border)\b/i.test(place[1]!)) return task('background', { prompt: cleanPhrase(place[1]!) });
  return undefined;
}

const STYLE_WORDS =
  /\b(?:watercolou?r|oil[\s-]painting|painting|painted|sketch(?:ed|y)?|pencil|drawing|charcoal|cartoon(?:ish|y)?|anime|manga|comic(?:\s+book)?|pixel[\s-]?art|pop[\s-]art|impressionis[tm]|expressionis[tm]|cubis[tm]|surreal(?:ist|ism)?|van\s+gogh|monet|picasso|rembrandt|dali|warhol|hokusai|ukiyo[\s-]?e|ghibli|pixar|disney|lego|claymation|low[\s-]?poly|vaporwave|synthwave|cyberpunk|steampunk|art\s+deco|art\s+nouveau|stained[\s-]glass|mosaic|line[\s-]art|ink|woodcut|engraving|pastel|crayon|graffiti|3d\s+render|noir|renaissance|baroque|origami|embroidery|neon|retro|vintage|8[\s-]?bit|16[\s-]?bit|cinematic|illustration|caricature|acrylic|gouache|mural|fresco|chalk|storybook|cel[\s-]?shaded|isometric|minimalist|abstract|art|artwork|style|portrait\s+painting|poster|photorealistic|realistic|pointillism|fauvism|gothic|tattoo|blueprint|sculpture|marble\s+statue|clay)\b/i;

const STYLE_OF = /\b(?:in\s+(?:the\s+)?style\s+of|(?:as\s+if\s+)?(?:painted|drawn|done|made)\s+by|like\s+a\s+painting\s+by|inspired\s+by)\s+(.+)$/i;
const STYLE_SUFFIX =
  /^(?:(?:make|render|redo|redraw|turn|convert|change|transform|restyle|do|apply|give|add|use)\s+)?(?:into\s+|in\s+|to\s+|as\s+)?(?:an?\s+)?(.+?)[\s-]+(?:style|filter|effect|look|aesthetic|vibe)(?:\s+(?:to|on))?$/i;
const STYLE_INTO =
  /^(?:make|render|redo|redraw|repaint|draw|paint|sketch|turn|convert|transform|change|restyle|stylize|stylise|style|recreate|reimagine|show)\s+(?:(?:look|looking)\s+like|like|into|as|to|in)?\s*(?:an?\s+|the\s+)?(.+)$/i;
const STYLE_VERB =
  /^(?:stylize|stylise|restyle|cartoonify|cartoonize|cartoonise|animefy|anime-?ify|sketchify|pixelate\s+into\s+art)(?:\s+(?:as|like|in|into|with))?\s*(?:an?\s+)?(.*)$/i;
const STYLE_ALONE = /^(?:as\s+|in\s+|into\s+)?(?:an?\s+)?(.+?)(?:\s+version)?$/i;

/** A style description is short and names a medium or artist; "the dog a cartoon" has an object in it. */
function isStyle(words: string): boolean {
  const w = words.trim();
  return STYLE_WORDS.test(w) && w.split(/\s+/).length <= 6 && !/^(?:the|his|her|their|my|its)\b/i.test(w) && !/\b(?:with|add|and)\b/i.test(w);
}

function style({ bare }: RuleInput): RuleOutcome | undefined {
  const of = STYLE_OF.exec(bare);
  if (of) return task('style', { prompt: cleanPhrase(of[1]!) });
  const verb = STYLE_VERB.exec(bare);
  if (verb) {
    const named = cleanPhrase(verb[1] ?? '');
    const implied = /^cartoon/i.test(bare) ? 'cartoon' : /^anime/i.test(bare) ? 'anime' : /^sketch/i.test(bare) ? 'sketch' : '';
    const prompt = named || implied;
    return prompt
      ? task('style', { prompt: withoutArticle(prompt) })
      : invalid('style', 'Which style? For example "make it look like a watercolor painting" or "in the style of van gogh".');
  }
  const suffix = STYLE_SUFFIX.exec(bare);
  if (
    suffix &&
    (isStyle(suffix[1]!) || /^(?:make|render|redo|turn|convert|apply|give|add|use|do)\b/i.test(bare)) &&
    !/\b(?:sepia|black|gr[ae]y|blur|bokeh|background)\b/i.test(suffix[1]!)
  ) {
    return task('style', { prompt: withoutArticle(cleanPhrase(suffix[1]!)) });
  }
  const into = STYLE_INTO.exec(bare);
  if (into && isStyle(into[1]!)) return task('style', { prompt: withoutArticle(cleanPhrase(into[1]!)) });
  const alone = STYLE_ALONE.exec(bare);
  if (alone && isStyle(alone[1]!) && bare.split(/\s+/).length <= 4 && !/^(?:draw|paint|sketch|illustrate)\b/i.test(bare))
    return task('style', { prompt: withoutArticle(cleanPhrase(alone[1]!)) });
  return undefined;
}

const UPSCALE =
  /\b(?:upscale|up-scale|upsample|up-sample|upres|up-res|super[\s-]?resolv\w*|super[\s-]?resolution|enhance(?:\s+the)?\s+(?:resolution|res|quality|details?)|(?:increase|raise|improve|boost|bump\s+up)\s+(?:the\s+)?(?:resolution|res|quality)|higher[\s-](?:resolution|res)|hi[\s-]?res|(?:make|get)\s+(?:it\s+)?(?:hd|higher[\s-](?:res(?:olution)?|quality)|high[\s-](?:res(?:olution)?|quality)|4k|sharper\s+and\s+bigger)|(?:double|triple|quadruple)\s+the\s+resolution|enlarge\s+without\s+losing)/i;

/**
 * "make it 2x bigger", "enlarge it 4x", "blow it up three times": someone who wants the whole picture
 * bigger by 2–4x wants it sharp at that size, which ESRGAN gives and a plain resize (blurry pixels)
 * does not. Other factors, percentages, pixel sizes and "resize"/"stretch" stay resizes (transform).
 */
const PICTURE = String.raw`(?:(?:the\s+|this\s+)?(?:image|photo|picture|pic|video|clip)\s+)?`;
const ENLARGE_BY = String.raw`(?:by\s+)?(?:a\s+factor\s+of\s+)?(${FACTOR_SOURCE}|${NUMBER_SOURCE})`;
const ENLARGE = [
  new RegExp(String.raw`^(?:make|get)\s+${PICTURE}(${FACTOR_SOURCE})\s+(?:as\s+)?(?:bigger|larger|big|large)$`, 'i'),
  new RegExp(String.raw`^(?:enlarge|blow\s+up|upsize|magnify|scale\s+up|make\s+bigger|make\s+larger)\s+${PICTURE}${ENLARGE_BY}(?:\s+(?:bigger|larger))?$`, 'i'),
  new RegExp(String.raw`^(${FACTOR_SOURCE})\s+(?:as\s+)?(?:bigger|larger|big|large)$`, 'i'),
];

function enlargeFactor(bare: string): number | undefined {
  for (const pattern of ENLARGE) {
    const m = pattern.exec(bare.trim());
    if (!m) continue;
    const factor = parseFactor(m[1]!);
    return factor !== undefined && [2, 3, 4].includes(factor) ? factor : undefined;
  }
  return undefined;
}

function upscale(bare: string): RuleOutcome | undefined {
  const enlarge = enlargeFactor(bare);
  if (enlarge !== undefined) return task('upscale', { factor: enlarge });
  if (!UPSCALE.test(bare) && !/^enhance$/i.test(bare)) return undefined;
  let factor = 2;
  const m =
    new RegExp(FACTOR_SOURCE, 'i').exec(bare) ??
    new RegExp(String.raw`\b(?:by|to)\s+(?:a\s+factor\s+of\s+)?(${NUMBER_SOURCE})(?:\s*(?:times|fold|x))?\b`, 'i').exec(bare) ??
    new RegExp(String.raw`(${NUMBER_SOURCE})[\s-]?fold\b`, 'i').exec(bare);
  if (m) {
    const f = parseFactor(m[1] ?? m[0]);
    if (f !== undefined) factor = f;
  }
  if (![2, 3, 4].includes(factor)) {
    return invalid('upscale', `I can upscale by 2x, 3x or 4x, not ${factor}x. Try "upscale it 4x", or upscale twice for more.`);
  }
  return task('upscale', { factor });
}

const DEPTH =
  /\b(?:depth(?:\s+(?:map|estimation|estimate|image|view|information|buffer))?|disparity(?:\s+map)?|z[\s-]?buffer|how\s+far\s+(?:away\s+)?(?:are|is)\s+(?:things|objects|everything|the\s+objects)|distance\s+map)\b/i;

const REMOVE_VERB = String.raw`(?:remove|delete|erase|get\s+rid\s+of|take\s+out|take\s+away|eliminate|wipe\s+out|wipe\s+away|wipe|clear\s+(?:out|away)|lose|ditch|edit\s+out|paint\s+out|photoshop\s+out|clone\s+out|rub\s+out|scrub\s+out|kill|drop)`;
const REMOVE = [
  new RegExp(String.raw`^${REMOVE_VERB}\s+(.+)$`, 'i'),
  /^take\s+(.+?)\s+out(?:\s+of)?$/i,
  /^make\s+(.+?)\s+(?:disappear|vanish|go\s+away)$/i,
  /^(?:show\s+|same\s+)?(?:(?:it|this)\s+)?without\s+(.+)$/i,
];
/** Not objects: these are tone or quality fixes that the free-form editor handles better than erasing. */
const NOT_AN_OBJECT =
  /^(?:the\s+|all\s+(?:the\s+)?|any\s+)?(?:.*\s)?(?:noise|grain|graininess|blur|blurriness|red[\s-]?eyes?|glare|haze|fog|artifacts|compression|jpeg\s+artifacts|colou?rs?|saturation|contrast)$/i;

/** "remove the white area": the area painted white on a mask image sent with the photo. */
const MASKED_AREA =
  /^(?:the\s+)?(?:white|masked|marked|painted|highlighted)\s+(?:area|areas|region|regions|part|parts|bits?|spots?|pixels)(?:\s+(?:of|in|on)\s+(?:the\s+)?mask)?$/i;

function remove({ bare, text }: RuleInput): RuleOutcome | undefined {
  for (const pattern of REMOVE) {
    const m = pattern.exec(bare);
    if (!m) continue;
    const phrase = cleanPhrase(m[1]!);
    if (phrase === '') return invalid('remove', 'What should I remove? For example "remove the dog" or "get rid of the text".');
    if (NOT_AN_OBJECT.test(phrase)) return task('edit', { prompt: cleanPhrase(text) });
    if (MASKED_AREA.test(phrase)) return task('inpaint');
    return task('remove', { phrase });
  }
  if (new RegExp(String.raw`^${REMOVE_VERB}$`, 'i').test(bare))
    return invalid('remove', 'What should I remove? For example "remove the dog" or "get rid of the text".');
  return undefined;
}

/** Times of day, seasons and weather: states of the whole scene ("turn day into night", "change summer to winter"). */
const SCENE_STATE =
  /^(?:the\s+)?(?:day|daytime|daylight|night|nighttime|morning|evening|dusk|dawn|sunset|sunrise|summer|winter|spring|autumn|fall|season|weather|sunshine|sun|rain|snow|fog)$/i;

const REPLACE = [
  /^(?:replace|swap(?:\s+out)?|switch(?:\s+out)?|exchange|substitute|trade)\s+(.+?)\s+(?:with|for|by|to|into)\s+(.+)$/i,
  /^(?:change|turn|transform|convert|make|morph)\s+(.+?)\s+(?:into|to)\s+(.+)$/i,
  /^(?:put|use)\s+(.+?)\s+instead\s+of\s+(.+)$/i,
];

/**
 * "replace the cat with this (picture)": the new thing is an image sent with the message, which the
 * references step has already taken out of `bare` ("replace the cat with"). No prompt: the specialist
 * pastes the second image.
 */
const REPLACE_WITH_IMAGE =
  /^(?:replace|swap(?:\s+out)?|switch(?:\s+out)?|exchange|substitute)\s+(.+?)(?:\s+(?:with|for|by)(?:\s+(?:this|that|the\s+(?:second|other|attached|new))?\s*(?:one|image|picture|photo|pic)?)?)?$/i;

function replaceWithImage(bare: string): RuleOutcome | undefined {
  const m = REPLACE_WITH_IMAGE.exec(bare);
  if (!m) return undefined;
  const phrase = cleanPhrase(m[1]!);
  if (phrase === '' || new RegExp(String.raw`^(?:the\s+)?${BACKGROUND}$`, 'i').test(phrase)) return undefined;
  return task('replace', { phrase });
}

function replace({ bare, text }: RuleInput): RuleOutcome | undefined {
  for (const [index, pattern] of REPLACE.entries()) {
    const m = pattern.exec(bare);
    if (!m) continue;
    // "put a cat instead of the dog" names the new thing first.
    const [from, to] = index === 2 ? [m[2]!, m[1]!] : [m[1]!, m[2]!];
    const phrase = cleanPhrase(from);
    const prompt = cleanPhrase(to);
    if (phrase === '' || prompt === '') return undefined;
    // "change the colour of the car to red" changes an attribute, and "turn day into night" the whole scene's
    // time or weather, which is no object to mask: a free-form edit says both better.
    if (/^(?:the\s+)?(?:colou?r|size|shape|texture|lighting|look)\s+of\b/i.test(phrase) || SCENE_STATE.test(phrase))
      return task('edit', { prompt: cleanPhrase(text) });
    if (new RegExp(String.raw`^(?:the\s+)?${BACKGROUND}$`, 'i').test(phrase)) return backgroundFrom(prompt);
    return task('replace', { phrase, prompt });
  }
  return replaceWithImage(bare);
}

const INPAINT =
  /^(?:fill(?:\s+in|\s+up)?|inpaint|patch(?:\s+up)?|repair|fix|restore|mend|paint\s+over)\s+(?:in\s+)?(?:the\s+|that\s+|this\s+)?(?:holes?|gaps?|missing\s+(?:parts?|areas?|regions?|bits?|pieces?)|masked\s+(?:areas?|regions?|parts?)|mask|blank\s+(?:areas?|spaces?|spots?)|empty\s+(?:areas?|spaces?|spots?)|damaged\s+(?:areas?|parts?|regions?|spots?)|damage|cracks?|scratches|tears?|transparent\s+(?:areas?|parts?))(?:\s+(?:with|using)\s+(.+))?$/i;
const INPAINT_ALONE = /^inpaint(?:ing)?(?:\s+(?:with|using)\s+(.+))?$/i;

/** "with this mask", "using the mask image": the mask is the second image of the message, not a prompt. */
const MASK_REFERENCE = /^(?:(?:this|that|the|my|attached|uploaded|second|other|given)\s+)*(?:mask|matte)(?:\s+(?:image|picture|file))?$/i;

function inpaint(bare: string): RuleOutcome | undefined {
  const m = INPAINT.exec(bare) ?? INPAINT_ALONE.exec(bare);
  if (!m) return undefined;
  const prompt = m[1] ? cleanPhrase(m[1]) : '';
  return task('inpaint', prompt !== '' && !MASK_REFERENCE.test(prompt) ? { prompt } : {});
}

/**
 * Free-form edits need a verb that changes the picture; anything else is not understood rather than
 * guessed at. The prompt is the instruction itself ("make it winter", not "winter"), with chat and explicit
 * references taken out: instruction editors (FLUX Kontext, Qwen-Image-Edit, the Images API) want the whole
 * instruction, while SD-Turbo image-to-image would rather have the target described; the planner cannot know
 * which engine runs, so it sends the words as given and leaves any rewording to the engine that needs it.
 */
const EDIT_VERB =
  /^(?:add|put|place|insert|give|draw|paint|change|turn|make|let|dress|convert|transform|fix|improve|retouch|touch\s+up|clean\s+up|age|de-?age|beautify|whiten|open|close|move|extend|expand|outpaint|zoom\s+(?:out|in)|reimagine|recolou?r|repaint|edit|modify|tweak|cover|hide|blur|pixelate|censor|apply|brighten\s+up|light\s+up|swap|remove|replace|set|colou?r|smooth|soften|straighten|rotate|warm|cool|fill|decorate|put)\b/i;

function edit({ bare, text }: RuleInput): RuleOutcome | undefined {
  if (!EDIT_VERB.test(bare)) return undefined;
  const prompt = cleanPhrase(text);
  // A verb alone ("make it", "change it") says nothing about what to change.
  if (bare.split(/\s+/).length < 2) return undefined;
  return task('edit', { prompt });
}

export const EDIT_RULES: Rule[] = [
  COLORIZE_RULE,
  { name: 'background', match: background },
  { name: 'depth', match: ({ bare }) => (DEPTH.test(bare) ? task('depth') : undefined) },
  { name: 'upscale', match: ({ bare }) => upscale(bare) },
  { name: 'inpaint', match: ({ bare }) => inpaint(bare) },
  { name: 'replace', match: replace },
  { name: 'remove', match: remove },
];

export const STYLE_RULE: Rule = { name: 'style', match: style };
export const EDIT_FALLBACK_RULE: Rule = { name: 'edit', match: edit };

/**
 * inpaint and replace read a second image: the mask ("inpaint with this mask") or the new subject
 * ("replace the cat with this"). With two images attached, the photo is the first and the second is
 * the last image of the conversation; with one image attached to a replace, the photo is "it".
 */
export function withSecondImage(task: Task, args: Record<string, unknown>, context: PlanContext, implicit: TargetRef[]): TargetRef[] {
  if ((task !== 'inpaint' && task !== 'replace') || implicit.length !== 1 || implicit[0] !== 'upload') return implicit;
  const images = context.attachments.filter((k) => k === 'image').length;
  if (context.attachments[0] === 'image' && images >= 2) return ['upload', 'image:last'];
  if (task === 'replace' && args.prompt === undefined && images === 1 && context.attachments.length === 1 && context.hasImage) return ['current', 'upload'];
  return implicit;
}
