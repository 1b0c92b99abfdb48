/**
 * Greedy CTC decoding for PaddleOCR's recognisers: class 0 is the blank, 1..K are the dictionary's keys
 * in file order, K+1 is a space. Repeats collapse unless a blank separates them.
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

export function ctcGreedyDecode(probs: Float32Array, offset: number, steps: number, classes: number, keys: readonly string[]): Decoded {
  let text = '';
  let sum = 0;
  let kept = 0;
  let previous = -1;
  for (let t = 0; t < steps; t++) {
    const row = offset + t * classes;
    let best = 0;
    let bestP = probs[row]!;
    for (let c = 1; c < classes; c++) {
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
