import { DURATION_SOURCE, parseDuration } from '../numbers.ts';
import type { Rule, RuleOutcome } from './rule.ts';
import { cleanPhrase, task } from './rule.ts';

/**
 * Camera moves over a still, said in words: "slowly zoom in", "pan to the left", "Ken Burns it", "zoom out
 * slowly for 8 seconds at 30 fps". A zoom needs a word of motion (slowly, gently, a slow zoom…): a bare
 * "zoom out" is outpainting and a bare "zoom in" a crop, both still pictures. "Pan" only ever means a move.
 * The same reading gives `animate` its `motion` when the move is said after "animate it with …".
 */

type Motion = 'ken_burns' | 'zoom_in' | 'zoom_out' | 'pan_left' | 'pan_right' | 'pan_up' | 'pan_down';

const SLOW = String.raw`(?:slow(?:ly)?|gentl[ey]|gradual(?:ly)?|smooth(?:ly)?|cinematic|steady|steadily)`;
const AN = String.raw`(?:(?:do|make|add|give\s+(?:it|me)|with|use)\s+)?(?:an?\s+)?`;
const KEN_BURNS = /\bken[\s-]*burns\b/i;
const ZOOM_SLOW_FIRST = new RegExp(String.raw`^${AN}${SLOW}\s+(?:camera\s+)?zoom(?:ing)?(?:\s+(in|out|into|toward[s]?))?\b\s*(.*)$`, 'i');
const ZOOM_SLOW_AFTER = new RegExp(String.raw`^${AN}zoom(?:ing)?\s+(in|out|into|toward[s]?)\b\s*(.*?)\s*\b${SLOW}\b\s*(.*)$`, 'i');
const PAN = new RegExp(
  String.raw`^${AN}(?:${SLOW}\s+)?pan(?:ning)?(?:\s+(?:the\s+)?camera)?(?:\s+(?:across|over))?(?:\s+(?:to(?:wards?)?\s+)?(?:the\s+)?(left|right|up|down|upwards?|downwards?))?\b\s*(.*)$`,
  'i',
);
const FPS = /[,\s]*\b(?:at\s+|with\s+)?(\d{1,3}(?:\.\d+)?)\s*(?:fps|frames?\s+(?:per|a)\s+second)\b/i;
const SECONDS = new RegExp(String.raw`[,\s]*\b(?:for\s+|lasting\s+|over\s+|in\s+)?(?:about\s+)?(${DURATION_SOURCE})(?:\s+long)?\b`, 'i');

/** The move named in words, and what is left of them; undefined when they name none. */
export function cameraMotion(words: string): { motion: Motion; rest: string } | undefined {
  const text = words.trim();
  if (KEN_BURNS.test(text)) return { motion: 'ken_burns', rest: text.replace(KEN_BURNS, ' ') };
  const zoom = ZOOM_SLOW_FIRST.exec(text);
  const after = zoom ? undefined : ZOOM_SLOW_AFTER.exec(text);
  if (zoom || after) {
    const direction = (zoom?.[1] ?? after?.[1] ?? 'in').toLowerCase();
    const rest = zoom ? zoom[2]! : `${after![2]} ${after![3]}`;
    if (direction === 'out') return { motion: 'zoom_out', rest };
    // "zoom in on the cat": toward the subject, which is what Ken Burns does.
    const onSomething = /^(?:on|onto|to|toward[s]?)\s+(?!it\b|this\b|that\b)\S/i.test(rest) || /^(?:into|toward[s]?)$/.test(direction);
    return { motion: onSomething ? 'ken_burns' : 'zoom_in', rest: onSomething ? rest.replace(/^(?:on|onto|to|toward[s]?)\s+\S+(?:\s+\S+)?/i, '') : rest };
  }
  const pan = PAN.exec(text);
  if (pan) {
    const way = (pan[1] ?? 'right').toLowerCase().replace(/wards?$/, '');
    return { motion: `pan_${way}` as Motion, rest: pan[2]! };
  }
  return undefined;
}

/** "… at 24 fps" taken out of the words. */
export function takeFps(words: string): { fps?: number; rest: string } {
  const m = FPS.exec(words);
  if (!m) return { rest: words };
  return { fps: Number(m[1]), rest: `${words.slice(0, m.index)} ${words.slice(m.index + m[0].length)}` };
}

function cameraMove(words: string): RuleOutcome | undefined {
  const { fps, rest: withoutFps } = takeFps(words);
  const found = cameraMotion(withoutFps);
  if (found === undefined) return undefined;
  const args: Record<string, unknown> = { motion: found.motion };
  if (fps !== undefined) args.fps = fps;
  const seconds = SECONDS.exec(found.rest);
  if (seconds) {
    const value = parseDuration(seconds[1]!);
    if (value !== undefined) args.seconds = value;
  }
  // Anything else said ("on the picture", "please") is not a second request: the move is the whole clause,
  // unless it reads like more words about the scene, which the specialist cannot follow.
  const left = cleanPhrase(
    (seconds ? found.rest.replace(seconds[0], ' ') : found.rest).replace(/^(?:on|over|across|of)\s+(?:it|this|that|the\s+(?:picture|image|photo))\b/i, ''),
  );
  if (left.split(/\s+/).filter(Boolean).length > 3) return undefined;
  return task('animate', args);
}

export const CAMERA_MOVE_RULE: Rule = { name: 'camera_move', match: ({ bare }) => cameraMove(bare) };
