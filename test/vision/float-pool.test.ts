import { describe, expect, it } from 'vitest';
import { borrowFloats, returnFloats } from '../../src/vision/models/float-pool.ts';

// Identity is compared with === so that a failure never makes vitest print whole arrays.
describe('float pool', () => {
  it('hands a returned array out again for the same length, and a fresh one otherwise', () => {
    const a = borrowFloats(1000);
    returnFloats(a);
    expect(borrowFloats(1000) === a).toBe(true);
    expect(borrowFloats(1000) === a).toBe(false);
    expect(borrowFloats(999).length).toBe(999);
  });

  it('keeps one spare per length', () => {
    const a = borrowFloats(10);
    const b = borrowFloats(10);
    returnFloats(a);
    returnFloats(b);
    expect(borrowFloats(10) === a).toBe(true);
    expect(borrowFloats(10) === b).toBe(false);
  });
});
