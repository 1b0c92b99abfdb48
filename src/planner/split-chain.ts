/**
 * Splits one message into the clauses of a chain: "crop it to a square and make it black and white"
 * → ["crop it to a square", "make it black and white"].
 *
 * Strong separators (";", sentence ends, "then", "and then", "after that", "and also") always split.
 * Weak ones ("and", ",", "plus", "&") split only where the words after them form an instruction of
 * their own, so "black and white", "salt and pepper" and "remove the dog and the cat" stay whole:
 * "white", "pepper" and "the cat" are not instructions. A run of pieces is tried before a single one,
 * so in "crop it to a square, black and white" the run "black and white" is found.
 */

/** How a clause reads on its own: a rule that stands alone, a free-form edit, or nothing. */
export type Recognition = 'standalone' | 'fallback' | undefined;

const STRONG =
  /\s*(?:;+|(?<=[a-z0-9)"'\]])[.!?]+(?=\s+\S)|\n+|,?\s+and\s+then\b,?|,?\s+then\b,?|,?\s+after\s+that\b,?|,?\s+afterwards\b,?|,?\s+and\s+also\b,?|,\s*also\b,?|\s+followed\s+by\b|,?\s+and\s+finally\b,?|,?\s+finally\b,?)\s*/i;
const WEAK = /(\s*,\s*(?:and\s+)?|\s+and\s+|\s+plus\s+|\s+&\s+|\s+as\s+well\s+as\s+)/i;

export function splitChain(text: string, recognize: (clause: string) => Recognition): string[] {
  const clauses: string[] = [];
  for (const part of splitStrong(text)) clauses.push(...splitWeak(part, recognize));
  return clauses.map((c) => c.trim()).filter((c) => c !== '');
}

function splitStrong(text: string): string[] {
  const parts: string[] = [];
  let rest = text.trim();
  // A leading "then"/"next" is no separator: nothing came before it.
  for (let m = STRONG.exec(rest); m !== null; m = STRONG.exec(rest)) {
    if (m.index > 0) parts.push(rest.slice(0, m.index));
    rest = rest.slice(m.index + m[0].length);
  }
  parts.push(rest);
  return parts.map((p) => p.trim()).filter((p) => p !== '' && !/^[.!?,;]+$/.test(p));
}

/** A comma between numbers ("the box 10,20,200,180", "at 120, 80") lists values; it never ends a clause. */
const NUMBER_COMMA = /(\d)\s*,\s*(?=\d)/g;
const KEPT_COMMA = '\u0000';

function splitWeak(text: string, recognize: (clause: string) => Recognition): string[] {
  const restore = (clause: string) => clause.replaceAll(KEPT_COMMA, ',');
  return splitWeakPieces(text.replace(NUMBER_COMMA, `$1${KEPT_COMMA}`), (clause) => recognize(restore(clause))).map(restore);
}

function splitWeakPieces(text: string, recognize: (clause: string) => Recognition): string[] {
  const tokens = text.split(WEAK);
  // tokens alternate: piece, separator, piece, separator, …
  const pieces: string[] = [];
  const separators: string[] = [];
  for (const [i, token] of tokens.entries()) (i % 2 === 0 ? pieces : separators).push(token);
  if (pieces.length === 1) return [text];

  const clauses: string[] = [];
  let current = pieces[0]!;
  let i = 1;
  while (i < pieces.length) {
    const run = firstInstructionRun(pieces, separators, i, current, recognize);
    if (run !== undefined) {
      clauses.push(current);
      current = join(pieces, separators, i, run);
      i = run + 1;
    } else {
      current = `${current}${separators[i - 1]}${pieces[i]}`;
      i += 1;
    }
  }
  clauses.push(current);
  return clauses;
}

/** The end index of the shortest run of pieces from `start` that reads as an instruction, if any. */
function firstInstructionRun(
  pieces: string[],
  separators: string[],
  start: number,
  left: string,
  recognize: (clause: string) => Recognition,
): number | undefined {
  for (let end = start; end < pieces.length; end++) {
    const candidate = join(pieces, separators, start, end);
    const reading = recognize(candidate);
    // A free-form edit after "and" counts only when what came before is an instruction too; otherwise
    // "draw a man and woman dancing" would split into a drawing and an edit.
    if (reading === 'standalone' || (reading === 'fallback' && recognize(left) !== undefined)) return end;
  }
  return undefined;
}

function join(pieces: string[], separators: string[], start: number, end: number): string {
  let out = pieces[start]!;
  for (let k = start + 1; k <= end; k++) out += `${separators[k - 1]}${pieces[k]}`;
  return out;
}
