/** Reading `npm run bench` section reports in tests. */

/** The numbers in a report line, in order; not the digits of names like "p99" or "INTERACTION_CREATE". */
export function numbersIn(line: string): number[] {
  return [...line.matchAll(/(?<![\w.])(\d+(?:\.\d+)?)/g)].map((m) => Number(m[1]));
}

/** The first line matching `pattern`; a test failing here prints the whole report. */
export function lineWith(lines: readonly string[], pattern: RegExp): string {
  const line = lines.find((l) => pattern.test(l));
  if (line === undefined) throw new Error(`no line matches ${pattern}:\n${lines.join('\n')}`);
  return line;
}
