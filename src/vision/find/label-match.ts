import { singularForms } from '../../core/plurals.ts';
import { COCO_LABELS, FACE_LABEL, LABEL_GROUPS } from '../models/coco-labels.ts';

/**
 * Phrase → the detector label it names: "the two big brown dogs" → dog, "kids" → person, "sofa" → couch.
 * The head noun of an English noun phrase is its last word before any prepositional tail ("the man with
 * the hat" → man), so we cut at the first preposition and try the longest word run ending there, which
 * also skips whatever adjectives and articles come first.
 */

/** Words (already singular, or invariant) → label. Every label also names itself. */
const SYNONYMS: Readonly<Record<string, string>> = {
  people: 'person',
  man: 'person',
  men: 'person',
  woman: 'person',
  women: 'person',
  kid: 'person',
  child: 'person',
  children: 'person',
  guy: 'person',
  boy: 'person',
  girl: 'person',
  human: 'person',
  lady: 'person',
  ladies: 'person',
  gentleman: 'person',
  gentlemen: 'person',
  baby: 'person',
  babies: 'person',
  toddler: 'person',
  adult: 'person',
  player: 'person',
  pedestrian: 'person',
  someone: 'person',
  somebody: 'person',
  astronaut: 'person',
  persons: 'person',
  puppy: 'dog',
  puppies: 'dog',
  pup: 'dog',
  doggy: 'dog',
  doggo: 'dog',
  hound: 'dog',
  kitty: 'cat',
  kitties: 'cat',
  kitten: 'cat',
  kitteh: 'cat',
  automobile: 'car',
  auto: 'car',
  sedan: 'car',
  taxi: 'car',
  cab: 'car',
  bike: 'bicycle',
  motorbike: 'motorcycle',
  scooter: 'motorcycle',
  plane: 'airplane',
  aeroplane: 'airplane',
  aircraft: 'airplane',
  jet: 'airplane',
  lorry: 'truck',
  pickup: 'truck',
  ship: 'boat',
  yacht: 'boat',
  canoe: 'boat',
  pony: 'horse',
  foal: 'horse',
  lamb: 'sheep',
  cattle: 'cow',
  calf: 'cow',
  bull: 'cow',
  ox: 'cow',
  sofa: 'couch',
  settee: 'couch',
  television: 'tv',
  telly: 'tv',
  monitor: 'tv',
  screen: 'tv',
  phone: 'cell phone',
  smartphone: 'cell phone',
  cellphone: 'cell phone',
  'mobile phone': 'cell phone',
  mobile: 'cell phone',
  iphone: 'cell phone',
  table: 'dining table',
  desk: 'dining table',
  plant: 'potted plant',
  houseplant: 'potted plant',
  fridge: 'refrigerator',
  doughnut: 'donut',
  ball: 'sports ball',
  football: 'sports ball',
  soccer: 'sports ball',
  basketball: 'sports ball',
  bag: 'handbag',
  purse: 'handbag',
  rucksack: 'backpack',
  luggage: 'suitcase',
  teddy: 'teddy bear',
  hairdryer: 'hair drier',
  'hair dryer': 'hair drier',
  glass: 'wine glass',
  mug: 'cup',
  laptop: 'laptop',
  notebook: 'laptop',
  computer: 'laptop',
  ski: 'skis',
  racket: 'tennis racket',
  racquet: 'tennis racket',
  bat: 'baseball bat',
  glove: 'baseball glove',
  hydrant: 'fire hydrant',
  'traffic signal': 'traffic light',
  stoplight: 'traffic light',
  face: FACE_LABEL,
  head: FACE_LABEL,
  animal: 'animal',
  pet: 'animal',
  creature: 'animal',
  vehicle: 'vehicle',
};

/** A tail after the head noun: "on the left", "with the hat", "who is running". */
const PREPOSITION =
  /\s+(?:on|in|at|with|near|next\s+to|beside|by|behind|under|over|above|below|from|of|to|holding|wearing|that|who|which|sitting|standing|lying)\s+.*$/i;

const KNOWN = new Map<string, string>([...COCO_LABELS.map((l) => [l, l] as [string, string]), ...Object.entries(SYNONYMS)]);

function lookup(words: readonly string[]): string | undefined {
  // Longest run ending at the head first: "wine glasses" before "glasses", "hot dog" before "dog".
  for (let start = 0; start < words.length; start++) {
    const head = words[words.length - 1]!;
    const before = words.slice(start, -1).join(' ');
    for (const form of singularForms(head)) {
      const label = KNOWN.get(before === '' ? form : `${before} ${form}`);
      if (label !== undefined) return label;
    }
  }
  return undefined;
}

/**
 * The label a phrase names: a COCO label, "face", or a group ("animal", "vehicle"); undefined when it
 * names none of them. Articles, numbers and adjectives in front, and a prepositional tail, are ignored.
 */
export function labelForPhrase(phrase: string): string | undefined {
  const head = phrase
    .toLowerCase()
    .replace(/[^a-z0-9'\s-]/g, ' ')
    .replace(/-/g, ' ')
    .replace(PREPOSITION, '')
    .trim();
  const words = head.split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return undefined;
  return lookup(words);
}

/** The labels a label stands for: a group's members, or the label itself. */
export function labelsOf(label: string): readonly string[] {
  return LABEL_GROUPS[label] ?? [label];
}
