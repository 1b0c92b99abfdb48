import { pluralOf } from '../../models/coco-labels.ts';
import type { Detection } from '../../ops/detection.ts';
import { positionWords } from '../../find/position-words.ts';

/**
 * The words of a caption made without a captioning model: what the detectors, the face finder and OCR
 * found, said as such. Only what they report above their own thresholds is counted, and a detector that is
 * not installed is neither quoted nor claimed to have looked. Pure, so the sentences are tested apart from
 * the models.
 */

/** What was found on one picture; a finder that did not run (not installed) is undefined. */
export interface Findings {
  /** COCO objects (CenterNet), already above the detector's threshold. */
  objects: readonly Detection[];
  /** Faces (BlazeFace), above its threshold. */
  faces?: readonly Detection[];
  /** Lines of text in reading order (PP-OCR, after its drop score). */
  text?: readonly string[];
  /** The picture's size, for where things are in a detailed caption. */
  width: number;
  height: number;
}

/** One picture's findings, and where it came from when that needs saying ("the frame at 0:03 of the video"). */
export interface FindingsOf {
  findings: Findings;
  where?: string;
}

const OPENING = 'I have no captioning model here, so this is what my detectors found';
/** A long sign or a page of text is quoted in part: the caption is a line, `ocr` reads the rest. */
const MAX_QUOTE = 160;
/** In a detailed caption, where things are is said for this many at most. */
const MAX_PLACES = 6;

/** "a dog", "an umbrella", "2 people". */
function counted(label: string, n: number): string {
  if (n !== 1) return `${n} ${pluralOf(label)}`;
  return `${/^[aeiou]/i.test(label) ? 'an' : 'a'} ${label}`;
}

/** "2 people, a dog and a cat". */
function listed(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** Counts per label, most frequent first, then alphabetical (as the detect task lists them). */
function tallies(objects: readonly Detection[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const d of objects) counts.set(d.label, (counts.get(d.label) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** The things, with faces folded into the people when there are people ("a person (a face in view)"). */
function thingsSaid(findings: Findings): string[] {
  const faces = findings.faces?.length ?? 0;
  const items = tallies(findings.objects).map(([label, n]) => {
    if (label === 'person' && faces > 0) return `${counted(label, n)} (${counted('face', faces)} in view)`;
    return counted(label, n);
  });
  if (faces > 0 && !findings.objects.some((d) => d.label === 'person')) items.push(counted('face', faces));
  return items;
}

/** `"OPEN / 9 TO 5"`, cut at MAX_QUOTE characters. */
function quoted(lines: readonly string[]): string {
  const joined = lines
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' / ');
  return `"${joined.length > MAX_QUOTE ? `${joined.slice(0, MAX_QUOTE).trimEnd()}…` : joined}"`;
}

/**
 * "Where: person on the left; cat in the middle, upper half.": for a detailed caption, left to right. Faces
 * are placed only when no person is (a close-up): otherwise they are the people already placed.
 */
function placesSaid(findings: Findings): string | undefined {
  const faces = findings.objects.some((d) => d.label === 'person') ? [] : (findings.faces ?? []);
  const ordered = [...findings.objects, ...faces].sort((a, b) => a.x1 + a.x2 - (b.x1 + b.x2)).slice(0, MAX_PLACES);
  if (ordered.length === 0) return undefined;
  const places = ordered.map((d) => `${d.label} ${positionWords(d, findings.width, findings.height)}`);
  return `Where: ${places.join('; ')}.`;
}

/** What the finders that ran look for, for a plain "nothing found". */
function lookedFor(findings: Findings): string {
  const kinds = ['people, animals, vehicles and about 80 kinds of everyday objects'];
  if (findings.faces !== undefined) kinds.push('faces');
  if (findings.text !== undefined) kinds.push('printed text');
  return listed(kinds);
}

/** The body for one picture: "2 people and a dog; the text reads "OPEN"", or undefined when nothing was found. */
function body(findings: Findings): string | undefined {
  const things = thingsSaid(findings);
  const text = findings.text?.some((l) => l.trim() !== '') ? `the text reads ${quoted(findings.text)}` : undefined;
  if (things.length === 0) return text === undefined ? undefined : `nothing they can name, but ${text}`;
  return text === undefined ? listed(things) : `${listed(things)}; ${text}`;
}

/**
 * The caption of one or more pictures from their findings. One picture: a sentence (and, detailed, where
 * things are); several: the opening, then one numbered line each.
 */
export function findingsCaption(targets: readonly FindingsOf[], detailed = false): string {
  const line = ({ findings, where }: FindingsOf) => {
    const said = body(findings);
    const places = detailed ? placesSaid(findings) : undefined;
    return { said, places, where, findings };
  };
  const lines = targets.map(line);
  if (lines.length === 1) {
    const { said, places, where, findings } = lines[0]!;
    const at = where === undefined ? '' : ` in ${where}`;
    if (said === undefined) {
      return `I have no captioning model here, and my detectors found nothing they can name${at === '' ? ' in this picture' : at} (they look for ${lookedFor(findings)}).`;
    }
    return `${OPENING}${at}: ${said}.${places === undefined ? '' : ` ${places}`}`;
  }
  const numbered = lines.map(({ said, places, where }, i) => {
    const at = where === undefined ? '' : `${where}: `;
    return `${i + 1}. ${at}${said ?? 'nothing they can name'}.${places === undefined ? '' : ` ${places}`}`;
  });
  return `${OPENING}:\n${numbered.join('\n')}`;
}
