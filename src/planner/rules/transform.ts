import { FACTOR_SOURCE, NUMBER_SOURCE, PERCENT_SOURCE, parseFactor, parseNumber, parsePercent, round } from '../numbers.ts';
import type { Rule, RuleOutcome } from './rule.ts';
import { invalid, task } from './rule.ts';

/**
 * Geometry. Angles are degrees clockwise in [0, 360): "rotate left" is 270, "-90" is 270 too.
 * A bare number after "resize" is the width ("resize to 800"), since sharp keeps the aspect ratio.
 */

const ROTATE_VERB = /\b(?:rotate|rotation|spin|tilt|turn)\b/i;
const DEGREES = new RegExp(String.raw`(-?\s*(?:${NUMBER_SOURCE}))\s*(?:degrees?|deg|°)`, 'i');
const BARE_ANGLE = /\b(?:rotate|rotation|spin|tilt|turn)\s+(?:by\s+)?(-?\d+(?:\.\d+)?)(?!\s*(?:x|%|px|times))\b/i;
const COUNTER = /\b(?:counter[\s-]?clockwise|anti[\s-]?clockwise|ccw|left|leftwards|to\s+the\s+left)\b/i;
const CLOCKWISE = /\b(?:clockwise|cw|right|rightwards|to\s+the\s+right)\b/i;

function rotate(bare: string): RuleOutcome | undefined {
  if (!ROTATE_VERB.test(bare)) return undefined;
  const turnOnly = /^turn\b/i.test(bare) && !/\brotate|spin|tilt/i.test(bare);
  let angle: number | undefined;
  const degrees = DEGREES.exec(bare);
  if (degrees) angle = parseNumber(degrees[1]!.replace(/\s+/g, ''));
  else {
    const bareAngle = BARE_ANGLE.exec(bare);
    if (bareAngle) angle = Number(bareAngle[1]);
  }
  if (angle === undefined) {
    if (/\bupside[\s-]down\b|\bhalf[\s-]turn\b|\b180\b/i.test(bare)) angle = 180;
    else if (/\bquarter[\s-]turn\b|\bsideways\b/i.test(bare)) angle = 90;
  }
  const counter = COUNTER.test(bare);
  const direction = counter || CLOCKWISE.test(bare);
  // "turn it into a cartoon" is no rotation: "turn" counts only with an angle or a direction.
  if (turnOnly && angle === undefined && !direction) return undefined;
  if (!/^(?:rotate|rotation|spin|tilt|turn)\b/i.test(bare) && angle === undefined) return undefined;
  const clockwise = (angle ?? 90) * (counter ? -1 : 1);
  return task('transform', { rotate: round(((clockwise % 360) + 360) % 360) });
}

const FLIP = /^(?:flip|mirror|reflect)\b|\b(?:flip|mirror)(?:ped)?\s+(?:horizontally|vertically)\b/i;

function flip(bare: string): RuleOutcome | undefined {
  if (!FLIP.test(bare)) return undefined;
  const vertical = /\b(?:vertical(?:ly)?|upside[\s-]down|top\s+to\s+bottom|bottom\s+to\s+top|up\s+and\s+down|over\s+the\s+x|on\s+its\s+head)\b/i.test(bare);
  return task('transform', { flip: vertical ? 'vertical' : 'horizontal' });
}

const ASPECT_WORDS: [RegExp, string][] = [
  [/\bsquare\b/i, '1:1'],
  [/\b(?:widescreen|wide[\s-]?screen|landscape|horizontal|youtube|cinematic|16\s*(?:by|:|x|×|\/)\s*9)\b/i, '16:9'],
  [/\b(?:portrait|vertical|story|stories|reels?|tiktok|phone|9\s*(?:by|:|x|×|\/)\s*16)\b/i, '9:16'],
];
const RATIO = /\b(\d{1,2})\s*(?:by|:|x|×|\/)\s*(\d{1,2})\b/i;
const PIXEL_CROP = [
  // "crop 400x300 at 10,20", "crop 400 by 300 from (10, 20)"
  /\b(\d+)\s*(?:x|×|by)\s*(\d+)\s*(?:px|pixels?)?\s*(?:at|from|starting\s+at|offset|with\s+offset|@)\s*\(?\s*(\d+)\s*[,\s]\s*(\d+)\s*\)?/i,
];
const NAMED_CROP = /\b(?:left|x)\s*[=:]?\s*(\d+)\b.*?\b(?:top|y)\s*[=:]?\s*(\d+)\b.*?\b(?:width|w)\s*[=:]?\s*(\d+)\b.*?\b(?:height|h)\s*[=:]?\s*(\d+)\b/i;

function crop(bare: string): RuleOutcome | undefined {
  const cropVerb =
    /^(?:crop|cut|trim|make|turn|reframe|square)\b/i.test(bare) && /\bcrop|square|aspect|ratio|reframe|widescreen|portrait|landscape\b/i.test(bare);
  if (!cropVerb) return undefined;
  if (/^(?:make|turn)\b/i.test(bare) && !/\b(?:square|crop|aspect|ratio)\b/i.test(bare)) return undefined;
  const named = NAMED_CROP.exec(bare);
  if (named) {
    const [left, top, width, height] = named.slice(1, 5).map(Number) as [number, number, number, number];
    return cropBox(left, top, width, height);
  }
  for (const pattern of PIXEL_CROP) {
    const m = pattern.exec(bare);
    if (m) {
      const [width, height, left, top] = m.slice(1, 5).map(Number) as [number, number, number, number];
      return cropBox(left, top, width, height);
    }
  }
  const ratio = RATIO.exec(bare);
  if (ratio) {
    const w = Number(ratio[1]);
    const h = Number(ratio[2]);
    if (w === 0 || h === 0) return invalid('transform', 'An aspect ratio needs two numbers above 0, like 16:9.');
    return task('transform', { crop: { aspect: `${w}:${h}` } });
  }
  for (const [pattern, aspect] of ASPECT_WORDS) if (pattern.test(bare)) return task('transform', { crop: { aspect } });
  if (/^crop$|^crop\s+(?:down|tighter|in)$/i.test(bare)) {
    return invalid('transform', 'How should I crop it? For example "crop it to a square", "crop to 16:9" or "crop 400x300 at 10,20".');
  }
  if (/^crop\b/i.test(bare)) {
    return invalid(
      'transform',
      'I can crop to an aspect ratio ("crop to a square", "crop to 16:9") or to pixels ("crop 400x300 at 10,20"); cropping to an object is not supported yet — try "cut out the dog".',
    );
  }
  return undefined;
}

function cropBox(left: number, top: number, width: number, height: number): RuleOutcome {
  if (width <= 0 || height <= 0) return invalid('transform', 'A crop needs a width and height above 0 pixels.');
  return task('transform', { crop: { left, top, width, height } });
}

const RESIZE_VERB = /\b(?:resize|re-size|scale|rescale|shrink|enlarge|downscale|downsize|size|smaller|bigger|larger|width|height|wide|tall|high)\b/i;

/**
 * "make the dog 2x bigger", "shrink the logo": a size change of one thing in the picture, which is an
 * edit of that thing (the free-form edit rule takes it), never a resize of the whole picture. Words for
 * the picture itself ("the image", "the whole thing") are still a resize.
 */
const NAMES_AN_OBJECT =
  /^(?:make|enlarge|shrink|scale(?:\s+up|\s+down)?|resize|grow|double|halve)\s+(?:the|this|that|these|those|his|her|their|my|our|your|its|a|an)\s+(?!(?:image|picture|photo|pic|video|clip|gif|whole|entire|size|canvas|frame|file|thing|result|output|one)\b)[a-z]/i;

function resize(bare: string): RuleOutcome | undefined {
  if (!RESIZE_VERB.test(bare)) return undefined;
  if (NAMES_AN_OBJECT.test(bare)) return undefined;
  if (/\b(?:wide[\s-]?screen|wide[\s-]angle|high[\s-](?:res|resolution|quality|contrast))\b/i.test(bare)) return undefined;
  const dims = /\b(\d{2,5})\s*(?:x|×|by)\s*(\d{2,5})\b/i.exec(bare);
  if (dims) return resizeOutcome({ width: Number(dims[1]), height: Number(dims[2]) });
  const size: Record<string, number> = {};
  const width = /\b(\d{1,5})\s*(?:px|pixels?)?\s*(?:wide|in\s+width|width|w)\b/i.exec(bare) ?? /\bwidth\s*(?:of|to|=|:)?\s*(\d{1,5})\b/i.exec(bare);
  const height = /\b(\d{1,5})\s*(?:px|pixels?)?\s*(?:tall|high|in\s+height|height|h)\b/i.exec(bare) ?? /\bheight\s*(?:of|to|=|:)?\s*(\d{1,5})\b/i.exec(bare);
  if (width) size.width = Number(width[1]);
  if (height) size.height = Number(height[1]);
  if (size.width !== undefined || size.height !== undefined) return resizeOutcome(size);

  const shrinking = /\b(?:shrink|smaller|downscale|downsize|down|reduce|decrease|half|halve|less)\b/i.test(bare);
  const percent = new RegExp(PERCENT_SOURCE, 'i').exec(bare);
  if (percent) {
    const p = parsePercent(percent[0])! / 100;
    // "scale to 50%" is the new size; "scale down by 25%" / "up by 50%" is a change.
    if (/\bby\b/i.test(bare)) return resizeOutcome({ scale: round(shrinking ? 1 - p : 1 + p) });
    return resizeOutcome({ scale: round(p) });
  }
  if (/\bhalf\s+(?:the\s+)?(?:size|as\s+(?:big|large))\b|\bby\s+half\b|\bhalve\b/i.test(bare)) return resizeOutcome({ scale: 0.5 });
  const factor = new RegExp(FACTOR_SOURCE, 'i').exec(bare) ?? new RegExp(String.raw`\bby\s+(${NUMBER_SOURCE})\b`, 'i').exec(bare);
  if (factor) {
    const f = parseFactor(factor[1] ?? factor[0]);
    if (f !== undefined) return resizeOutcome({ scale: round(shrinking && f > 1 ? 1 / f : f) });
  }
  const plain = /^(?:resize|scale|rescale|size|enlarge|shrink|downsize|downscale)\s+(?:down\s+|up\s+)?(?:to\s+)?(\d{2,5})\s*(?:px|pixels?)?$/i.exec(bare);
  if (plain) return resizeOutcome({ width: Number(plain[1]) });
  const slight = /\b(?:a\s+(?:little\s+)?bit|slightly|a\s+little|a\s+touch|somewhat|a\s+tad)\b/i.test(bare);
  // Only the whole picture: "make the dog bigger" is an edit of one object, not a resize.
  const amount = String.raw`(?:a\s+(?:little\s+)?bit\s+|slightly\s+|a\s+little\s+|much\s+|a\s+lot\s+|somewhat\s+|a\s+tad\s+)?`;
  if (new RegExp(String.raw`^(?:shrink|downscale|downsize|scale\s+down|make\s+${amount}smaller)$`, 'i').test(bare))
    return resizeOutcome({ scale: slight ? 0.75 : 0.5 });
  if (new RegExp(String.raw`^(?:enlarge|scale\s+up|make\s+${amount}(?:bigger|larger))$`, 'i').test(bare)) return resizeOutcome({ scale: slight ? 1.25 : 2 });
  if (/^(?:resize|rescale)$/i.test(bare))
    return invalid('transform', 'What size should it be? For example "resize to 800 wide", "resize to 800x600" or "make it half the size".');
  return undefined;
}

function resizeOutcome(resize: Record<string, number>): RuleOutcome {
  for (const [key, value] of Object.entries(resize)) {
    if (!(value > 0)) return invalid('transform', `The ${key} has to be more than 0.`);
    if (key !== 'scale' && value > 16384) return invalid('transform', `A ${key} of ${value} pixels is more than the 16384 I can make.`);
    if (key === 'scale' && value > 16) return invalid('transform', `Scaling by ${value}x is more than the 16x I can make.`);
  }
  return task('transform', { resize });
}

export const TRANSFORM_RULES: Rule[] = [
  { name: 'flip', match: ({ bare }) => flip(bare) },
  { name: 'crop', match: ({ bare }) => crop(bare) },
  { name: 'rotate', match: ({ bare }) => rotate(bare) },
  { name: 'resize', match: ({ bare }) => resize(bare) },
];
