/**
 * Greedy CTC decoding for PaddleOCR's recognisers: class 0 is the blank, 1..K are the dictionary's keys
 * in file order, K+1 is a space. Repeats collapse unless a blank separates them. Each row of `probs` is a
 * softmax over the classes.
 */
export interface Decoded {
  text: string;
  /** Mean probability of the kept characters (0 when nothing was read). */
  score: number;
}

export function parseKeys(file: string): string[] {
  const keys = file.split('\n').map((k) => k.replace(/\r$/, ''));
  if (keys.at(-1) === '') keys.pop();
  return keys;
}

/**
 * A class above this is its row's maximum: PaddleOCR's recognisers end in a softmax, so a row sums to one
 * (to float error) and no other class can reach a probability above one half. The margin covers rounding.
 * Most rows are a confident blank or character, so the scan of 6 625 classes usually stops early.
 */
const SURE_MAX = 0.5 + 1e-3;

export function ctcGreedyDecode(probs: Float32Array, offset: number, steps: number, classes: number, keys: readonly string[]): Decoded {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes && bestP <= SURE_MAX; c++) {
      const p = probs[row + c]!;
      if (p > bestP) {
        bestP = p;
        best = c;
      }
    }
    if (best !== 0 && best !== previous) {
      text += best <= keys.length ? keys[best - 1]! : ' ';
      sum += bestP;
      kept += 1;
    }
    previous = best;
  }
  return { text, score: kept === 0 ? 0 : sum / kept };
}
