import { describe, expect, it } from 'vitest';
import { ContentBlockedError } from '../../src/errors.ts';
import { blockedPromptMessage, checkPrompt, findBlockedTerms, maskTerm } from '../../src/safety/prompt-filter.ts';

const ON = { SAFETY: 'flag', SAFETY_BLOCKED_TERMS: undefined } as const;
const written = (prompt: string, settings: Parameters<typeof findBlockedTerms>[1] = ON) => findBlockedTerms(prompt, settings).map((t) => t.written);

describe('prompt filter', () => {
  it('blocks an English term from the built-in list, also written with look-alike characters', () => {
    expect(written('draw a fucking red fox')).toEqual(['fuck']);
    expect(written('a portrait of a b1tch')).toEqual(['b1tch']);
  });

  it("blocks the operator's terms as whole words, in any case, and several words as one term", () => {
    const settings = { SAFETY: 'flag', SAFETY_BLOCKED_TERMS: 'grape, Mickey Mouse ,  ' } as const;
    expect(written('a bowl of GRAPE juice', settings)).toEqual(['GRAPE']);
    expect(written('draw mickey   mouse on the moon', settings)).toEqual(['mickey   mouse']);
    expect(findBlockedTerms('a grape', settings)[0]!.source).toBe('operator');
  });

  it('lets innocent words through that merely contain a blocked term (the Scunthorpe problem)', () => {
    const settings = { SAFETY: 'flag', SAFETY_BLOCKED_TERMS: 'grape' } as const;
    for (const prompt of [
      'a postcard from Scunthorpe',
      'a cocktail on a beach',
      'an assassin in the rain',
      'classic bass guitar',
      'a bowl of cumin and turmeric',
      'cumulus clouds over Penistone',
      'half a grapefruit',
    ]) {
      expect(written(prompt, settings), prompt).toEqual([]);
    }
  });

  it('SAFETY=off lets every prompt through', () => {
    expect(findBlockedTerms('draw a fucking red fox', { SAFETY: 'off', SAFETY_BLOCKED_TERMS: 'fox' })).toEqual([]);
    expect(() => checkPrompt('draw a fucking red fox', { SAFETY: 'off', SAFETY_BLOCKED_TERMS: 'fox' })).not.toThrow();
  });

  it('the user hears one sentence naming each term once, masked, never in full', () => {
    const terms = findBlockedTerms('fuck this fuck that', ON);
    expect(blockedPromptMessage(terms)).toBe('Your prompt contains a blocked term ("f***"), so nothing was made.');
    const two = findBlockedTerms('a shit and a grape', { SAFETY: 'block', SAFETY_BLOCKED_TERMS: 'grape' });
    expect(blockedPromptMessage(two)).toBe('Your prompt contains blocked terms ("s***", "g****"), so nothing was made.');
    expect(maskTerm('x')).toBe('*');
  });

  it('checkPrompt throws ContentBlockedError whose details hold only masked terms', () => {
    let thrown: unknown;
    try {
      checkPrompt('draw a fucking red fox', ON);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ContentBlockedError);
    const error = thrown as ContentBlockedError;
    expect(error.code).toBe('CONTENT_BLOCKED');
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ terms: ['f***'], sources: ['english'] });
    expect(JSON.stringify(error.toJSON())).not.toContain('fuck');
    expect(() => checkPrompt('draw a red fox', ON)).not.toThrow();
  });
});
