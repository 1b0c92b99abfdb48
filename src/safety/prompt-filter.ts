import { RegExpMatcher, englishDataset, englishRecommendedTransformers } from 'obscenity';
import type { Settings } from '../config/settings.ts';
import { ContentBlockedError } from '../errors.ts';

/** A blocked term found in a prompt: as the user wrote it, and masked for saying it back. */
export interface BlockedTerm {
  /** The matched text exactly as it appears in the prompt. */
  written: string;
  /** The first letter and asterisks ("f***"): enough to find it, without repeating it. */
  masked: string;
  /** The built-in English list (obscenity) or the operator's SAFETY_BLOCKED_TERMS. */
  source: 'english' | 'operator';
}

export type PromptFilterSettings = Pick<Settings, 'SAFETY' | 'SAFETY_BLOCKED_TERMS'>;

/**
 * Ordinary words that obscenity's English patterns match inside ("cum" in cumin, "penis" in Penistone).
 * An image bot is asked for spices and towns; obscenity already whitelists Scunthorpe-style cases of its own.
 */
const INNOCENT_WORDS = ['cumin', 'cumulus', 'cumulonimbus', 'penistone'];

let englishMatcher: RegExpMatcher | undefined;

/** Built once: compiling the English preset's patterns is the costly part, matching is cheap. */
function english(): RegExpMatcher {
  if (englishMatcher === undefined) {
    const built = englishDataset.build();
    englishMatcher = new RegExpMatcher({
      ...built,
      ...englishRecommendedTransformers,
      whitelistedTerms: [...(built.whitelistedTerms ?? []), ...INNOCENT_WORDS],
    });
  }
  return englishMatcher;
}

/** The operator's comma list as whole-word, case-insensitive patterns; "grape" never blocks "grapefruit". */
function operatorPatterns(list: string | undefined): { pattern: RegExp }[] {
  if (!list) return [];
  return list
    .split(',')
    .map((term) => term.trim())
    .filter((term) => term.length > 0)
    .map((term) => {
      const escaped = term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
      // Letters and digits of any script count as word characters, so "café" is one word too.
      return { pattern: new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, 'giu') };
    });
}

export function maskTerm(term: string): string {
  const letters = [...term];
  return letters.length <= 1 ? '*' : `${letters[0]}${'*'.repeat(letters.length - 1)}`;
}

/** Every blocked term in the prompt, in order of appearance; empty when the prompt may run or SAFETY=off. */
export function findBlockedTerms(prompt: string, settings: PromptFilterSettings): BlockedTerm[] {
  if (settings.SAFETY === 'off' || prompt.trim() === '') return [];
  const found: { at: number; term: BlockedTerm }[] = [];
  for (const match of english().getAllMatches(prompt, true)) {
    const written = prompt.slice(match.startIndex, match.endIndex + 1);
    found.push({ at: match.startIndex, term: { written, masked: maskTerm(written), source: 'english' } });
  }
  for (const { pattern } of operatorPatterns(settings.SAFETY_BLOCKED_TERMS)) {
    for (const match of prompt.matchAll(pattern)) {
      found.push({ at: match.index, term: { written: match[0], masked: maskTerm(match[0]), source: 'operator' } });
    }
  }
  found.sort((a, b) => a.at - b.at);
  // One mention per term: "fuck fuck" is one problem, said once.
  const seen = new Set<string>();
  return found.map((f) => f.term).filter((t) => !seen.has(t.written.toLowerCase()) && seen.add(t.written.toLowerCase()));
}

/** The one sentence a user gets; it names the terms masked so the user can find them, never in full. */
export function blockedPromptMessage(terms: readonly BlockedTerm[]): string {
  const names = terms.map((t) => `"${t.masked}"`);
  const list = names.length === 1 ? `a blocked term (${names[0]})` : `blocked terms (${names.join(', ')})`;
  return `Your prompt contains ${list}, so nothing was made.`;
}

/** Throws ContentBlockedError when the prompt holds a blocked term; the details carry masked terms only. */
export function checkPrompt(prompt: string, settings: PromptFilterSettings): void {
  const terms = findBlockedTerms(prompt, settings);
  if (terms.length === 0) return;
  throw new ContentBlockedError(blockedPromptMessage(terms), {
    terms: terms.map((t) => t.masked),
    sources: [...new Set(terms.map((t) => t.source))],
  });
}
