/**
 * English plurals for the words people use about things in pictures: "the dogs" means all of them,
 * "umbrellas" is looked for as "umbrella". Shared by the planner (reading "which one?" answers) and the
 * detectors (choosing labels), so it lives in core.
 */

const IRREGULAR_SINGULAR: Readonly<Record<string, string>> = {
  people: 'person',
  men: 'man',
  women: 'woman',
  children: 'child',
  mice: 'mouse',
  knives: 'knife',
  geese: 'goose',
  teeth: 'tooth',
  feet: 'foot',
  sheep: 'sheep',
  skis: 'skis',
  scissors: 'scissors',
  buses: 'bus',
  glasses: 'glass',
  couches: 'couch',
  benches: 'bench',
  sandwiches: 'sandwich',
  toothbrushes: 'toothbrush',
  boxes: 'box',
  wolves: 'wolf',
  calves: 'calf',
  leaves: 'leaf',
};

/** Singular forms to try for one word, most likely first ("dogs" → dogs, dog; "buses" → buses, bus, buse). */
export function singularForms(word: string): string[] {
  const w = word.toLowerCase();
  const forms = [w];
  const irregular = IRREGULAR_SINGULAR[w];
  if (irregular !== undefined) forms.push(irregular);
  if (w.endsWith('ies') && w.length > 4) forms.push(`${w.slice(0, -3)}y`);
  if (/(?:ses|xes|zes|ches|shes)$/.test(w)) forms.push(w.slice(0, -2));
  if (w.endsWith('ves')) forms.push(`${w.slice(0, -3)}f`, `${w.slice(0, -3)}fe`);
  if (w.endsWith('s') && !w.endsWith('ss') && w.length > 2) forms.push(w.slice(0, -1));
  return [...new Set(forms)];
}

/** Whether a word is a plural noun ("dogs", "people", "children"), for "the dogs" = all of them. */
export function isPluralWord(word: string): boolean {
  const w = word.toLowerCase();
  // A pair of skis or scissors is one thing.
  if (w === 'skis' || w === 'scissors') return false;
  if (w === 'cattle') return true;
  const irregular = IRREGULAR_SINGULAR[w];
  if (irregular !== undefined) return irregular !== w;
  return w.endsWith('s') && !/(?:ss|us|is)$/.test(w) && w.length > 3;
}
