import { describe, expect, it } from 'vitest';
import { embeddingFor, embeddingKey, encoderId, modelOfEncoder, packTensors, parseEmbeddingKey, textDigest, unpackTensors } from '../../src/core/embeddings.ts';
import { LruCache } from '../../src/core/lru.ts';

describe('embedding keys', () => {
  const encoder = encoderId('owlvit-base', '3f9a1c2e');

  it('name the argument, the encoder (model and graph fingerprint) and the digest of the words the encoder read', () => {
    expect(encoder).toBe('owlvit-base:text:3f9a1c2e');
    const key = embeddingKey('phrase', encoder, 'a photo of a red umbrella');
    expect(key).toBe(`phrase@owlvit-base:text:3f9a1c2e#${textDigest('a photo of a red umbrella')}`);
    expect(parseEmbeddingKey(key)).toEqual({ arg: 'phrase', encoder, digest: textDigest('a photo of a red umbrella') });
    expect(modelOfEncoder(encoder)).toBe('owlvit-base');
  });

  it('differ when any of the three differs, so a specialist finds only what was made for it', () => {
    const key = embeddingKey('phrase', encoder, 'a photo of a dog');
    expect(embeddingKey('prompt', encoder, 'a photo of a dog')).not.toBe(key);
    expect(embeddingKey('phrase', encoderId('owlvit-base', '00000000'), 'a photo of a dog')).not.toBe(key);
    expect(embeddingKey('phrase', encoder, 'a photo of a cat')).not.toBe(key);
    const embeddings = { [key]: [1, 0, 0] };
    expect(embeddingFor(embeddings, 'phrase', encoder, 'a photo of a dog')).toEqual([1, 0, 0]);
    expect(embeddingFor(embeddings, 'phrase', encoder, 'a photo of a cat')).toBeUndefined();
    expect(embeddingFor(undefined, 'phrase', encoder, 'a photo of a dog')).toBeUndefined();
  });

  it('parses only keys in this format', () => {
    expect(parseEmbeddingKey('phrase@clipseg-rd64:text')).toBeUndefined();
    expect(parseEmbeddingKey('question@clipseg-rd64:text:ab#0123456789ab')).toBeUndefined();
    expect(parseEmbeddingKey('clip')).toBeUndefined();
  });
});

describe('packed tensors', () => {
  it('round-trip dims and values through one number array', () => {
    const packed = packTensors([
      { dims: [1, 3, 1, 1], values: [0.5, -1, 2] },
      { dims: [2], values: [7, 8] },
    ]);
    expect(packed).toEqual([2, 4, 1, 3, 1, 1, 0.5, -1, 2, 1, 2, 7, 8]);
    expect(unpackTensors(packed)).toEqual([
      { dims: [1, 3, 1, 1], values: [0.5, -1, 2] },
      { dims: [2], values: [7, 8] },
    ]);
    expect(unpackTensors(JSON.parse(JSON.stringify(packed)))).toEqual(unpackTensors(packed));
  });

  it('refuse what is not a packing: values missing or left over, bad dims, non-finite numbers', () => {
    const good = packTensors([{ dims: [3], values: [1, 2, 3] }]);
    expect(unpackTensors(good.slice(0, -1))).toBeUndefined();
    expect(unpackTensors([...good, 4])).toBeUndefined();
    expect(unpackTensors([1, 1, -3, 1, 2, 3])).toBeUndefined();
    expect(unpackTensors([1, 1, 1.5, 1])).toBeUndefined();
    expect(unpackTensors([1, 1, 1, Number.NaN])).toBeUndefined();
    expect(unpackTensors([0])).toBeUndefined();
    expect(unpackTensors([])).toBeUndefined();
    expect(() => packTensors([{ dims: [2], values: [1] }])).toThrow(RangeError);
  });
});

describe('LruCache', () => {
  it('drops the least recently used entry past its count', () => {
    const cache = new LruCache<string, number>({ maxEntries: 2 });
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect(cache.has('b')).toBe(false);
    expect([cache.get('a'), cache.get('c')]).toEqual([1, 3]);
  });

  it('drops old entries past its weight, and keeps nothing that alone weighs more than all', () => {
    const cache = new LruCache<string, number[]>({ maxEntries: 10, maxWeight: 5, weigh: (v) => v.length });
    cache.set('a', [1, 2]);
    cache.set('b', [1, 2]);
    cache.set('c', [1, 2]);
    expect(cache.has('a')).toBe(false);
    expect(cache.weight).toBe(4);
    cache.set('huge', [1, 2, 3, 4, 5, 6]);
    expect(cache.has('huge')).toBe(false);
    expect(cache.size).toBe(2);
  });
});
