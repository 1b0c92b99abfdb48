/**
 * The 80 COCO object classes in the order detectors trained on COCO number them (0 = person, 15 = cat,
 * 17 = horse…), as CenterNet's `class` column indexes them.
 */
export const COCO_LABELS = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
] as const;

export type CocoLabel = (typeof COCO_LABELS)[number];

export function isCocoLabel(label: string): label is CocoLabel {
  return (COCO_LABELS as readonly string[]).includes(label);
}

/** Labels that are not COCO classes but that other detectors produce (BlazeFace). */
export const FACE_LABEL = 'face';

/** Groups a user may ask for as one word ("how many animals?"). */
export const LABEL_GROUPS: Readonly<Record<string, readonly CocoLabel[]>> = {
  animal: ['bird', 'cat', 'dog', 'horse', 'sheep', 'cow', 'elephant', 'bear', 'zebra', 'giraffe'],
  vehicle: ['bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat'],
};

const IRREGULAR_PLURALS: Readonly<Record<string, string>> = {
  person: 'people',
  mouse: 'mice',
  knife: 'knives',
  skis: 'skis',
  scissors: 'scissors',
  sheep: 'sheep',
  tv: 'TVs',
};

/** "person" → "people", "bus" → "buses", "wine glass" → "wine glasses" (the last word is inflected). */
export function pluralOf(label: string): string {
  const irregular = IRREGULAR_PLURALS[label];
  if (irregular !== undefined) return irregular;
  if (/(?:s|x|z|ch|sh)$/.test(label)) return `${label}es`;
  return `${label}s`;
}

/** "1 person", "3 people". */
export function countOf(label: string, n: number): string {
  return `${n} ${n === 1 ? label : pluralOf(label)}`;
}
