import { describe, expect, it } from 'vitest';
import { latestBatch, liveBatchSize } from '../../src/conversation/batch.ts';
import { resolveReference, type ReferenceContext } from '../../src/conversation/references.ts';
import type { Invocation } from '../../src/core/types.ts';
import { UnresolvedReferenceError } from '../../src/errors.ts';
import type { MediaRole, StoredMedia } from '../../src/store/types.ts';

const draw: Invocation = { task: 'generate_image', targets: [], args: { prompt: 'a fox', count: 3, seed: 1 } };
const vary: Invocation = { task: 'vary', targets: ['batch:1'], args: { count: 2, seed: 2 } };
const upscale: Invocation = { task: 'upscale', targets: ['batch:2'], args: { factor: 2 } };
const brighter: Invocation = { task: 'adjust', targets: ['current'], args: { brightness: 1.3 } };

let ordinal = 0;
function media(id: string, role: MediaRole, jobId: string | null, invocation: Invocation | null, parentId: string | null = null): StoredMedia {
  const facing = role === 'upload' || role === 'result' || role === 'frame';
  return {
    id,
    kind: 'image',
    role,
    ordinal: facing ? ++ordinal : null,
    parentId,
    turnId: null,
    sha256: id.padEnd(64, '0'),
    mime: 'image/png',
    bytes: 1,
    width: 1,
    height: 1,
    conversationId: 'c',
    label: null,
    jobId,
    invocation,
    createdAt: new Date(0),
  };
}

// "draw three foxes": f1 f2 f3 and their grid, all of job j1
const F1 = media('f1', 'result', 'j1', draw);
const F2 = media('f2', 'result', 'j1', draw);
const F3 = media('f3', 'result', 'j1', draw);
const GRID = media('g1', 'grid', 'j1', draw);
const FOXES = [F1, F2, F3, GRID];

const context = (all: StoredMedia[]): ReferenceContext => ({ media: all, currentId: all.find((m) => m.role === 'result')?.id ?? null });

describe('latest batch', () => {
  it('is the pictures one step made together, in order, without the grid', () => {
    expect(latestBatch(FOXES)?.members.map((m) => m.id)).toEqual(['f1', 'f2', 'f3']);
    expect(liveBatchSize(FOXES)).toBe(3);
  });

  it('is not a single result, nor two steps of one job', () => {
    const upload = media('u', 'upload', null, null);
    const a = media('a', 'result', 'j9', brighter, 'u');
    const b = media('b', 'result', 'j9', brighter, 'a');
    expect(latestBatch([upload, a])).toBeUndefined();
    expect(latestBatch([upload, a, b])).toBeUndefined();
  });

  it('stays live while only its pictures are worked on ("U2" then "U3")', () => {
    const big = media('big', 'result', 'j2', upscale, 'f2');
    expect(liveBatchSize([...FOXES, big])).toBe(3);
    const edited = media('e', 'result', 'j3', brighter, 'big');
    expect(liveBatchSize([...FOXES, big, edited])).toBeUndefined();
    expect(liveBatchSize([...FOXES, media('u2', 'upload', null, null)])).toBeUndefined();
  });

  it('is the newer batch after variations of one of its pictures', () => {
    const v1 = media('v1', 'result', 'j4', vary, 'f1');
    const v2 = media('v2', 'result', 'j4', vary, 'f1');
    expect(latestBatch([...FOXES, v1, v2])?.members.map((m) => m.id)).toEqual(['v1', 'v2']);
    expect(liveBatchSize([...FOXES, v1, v2])).toBe(2);
  });
});

describe('batch:N references', () => {
  it('resolve to the N-th picture of the latest batch', () => {
    expect(resolveReference('batch:1', context(FOXES)).id).toBe('f1');
    expect(resolveReference('batch:3', context(FOXES)).id).toBe('f3');
    // The planner decides whether the batch is still meant; resolving does not second-guess it.
    const later = [...FOXES, media('u3', 'upload', null, null)];
    expect(resolveReference('batch:2', context(later)).id).toBe('f2');
  });

  it('ask back when there is no such picture', () => {
    expect(() => resolveReference('batch:4', context(FOXES))).toThrow(/only 3 pictures/);
    const single = [media('s', 'result', 'j5', brighter)];
    expect(() => resolveReference('batch:1', context(single))).toThrow(UnresolvedReferenceError);
    expect(() => resolveReference('batch:1', context(single))).toThrow(/no batch/);
  });
});
