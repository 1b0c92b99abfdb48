import { describe, expect, it } from 'vitest';
import type { Recognition } from '../../src/planner/split-chain.ts';
import { splitChain } from '../../src/planner/split-chain.ts';
import { planTurn } from '../../src/planner/baseline-planner.ts';
import { contextFor } from '../../src/planner/context.ts';

/** A tiny recogniser so the splitting rules are tested apart from the real rule set. */
function fake(commands: string[], fallbacks: string[] = []): (clause: string) => Recognition {
  return (clause) => (commands.includes(clause.trim()) ? 'standalone' : fallbacks.includes(clause.trim()) ? 'fallback' : undefined);
}

describe('splitChain', () => {
  it('always splits at strong separators', () => {
    const none = fake([]);
    expect(splitChain('crop it; blur it', none)).toEqual(['crop it', 'blur it']);
    expect(splitChain('crop it then blur it', none)).toEqual(['crop it', 'blur it']);
    expect(splitChain('crop it, and then blur it', none)).toEqual(['crop it', 'blur it']);
    expect(splitChain('crop it and also blur it', none)).toEqual(['crop it', 'blur it']);
    expect(splitChain('Crop it. Blur it!', none)).toEqual(['Crop it', 'Blur it!']);
  });

  it('splits at "and" and commas only before an instruction', () => {
    const recognize = fake(['make it black and white', 'blur it', 'black and white']);
    expect(splitChain('crop it and blur it', recognize)).toEqual(['crop it', 'blur it']);
    expect(splitChain('crop it, blur it', recognize)).toEqual(['crop it', 'blur it']);
    expect(splitChain('remove the dog and the cat', recognize)).toEqual(['remove the dog and the cat']);
    expect(splitChain('crop it and make it black and white', recognize)).toEqual(['crop it', 'make it black and white']);
    expect(splitChain('crop it, black and white', recognize)).toEqual(['crop it', 'black and white']);
  });

  it('splits before a free-form edit only when the left side is an instruction too', () => {
    const recognize = fake(['draw a dog'], ['put a hat on it', 'woman dancing']);
    expect(splitChain('draw a dog and put a hat on it', recognize)).toEqual(['draw a dog', 'put a hat on it']);
    expect(splitChain('draw a man and woman dancing', fake([], ['woman dancing']))).toEqual(['draw a man and woman dancing']);
  });

  it('does not split at a leading "then" or keep empty clauses', () => {
    expect(splitChain('then blur it', fake([]))).toEqual(['then blur it']);
    expect(splitChain('blur it;;', fake([]))).toEqual(['blur it']);
  });

  it('keeps "black and white", "salt and pepper" and object lists whole with the real rules', () => {
    const plan = (text: string) => planTurn(text, contextFor('image')).invocations;
    expect(plan('make it black and white')).toHaveLength(1);
    expect(plan('remove the salt and pepper shaker')).toEqual([{ task: 'remove', targets: ['current'], args: { phrase: 'the salt and pepper shaker' } }]);
    expect(plan('put a hat on the dog and the cat')).toHaveLength(1);
    expect(plan('rotate it 90 degrees, flip it and make it a bit darker')).toHaveLength(3);
  });
});
