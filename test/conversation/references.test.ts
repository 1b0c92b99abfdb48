import { describe, expect, it } from 'vitest';
import { resolveReference, resolveReferences, type ReferenceContext } from '../../src/conversation/references.ts';
import { UnresolvedReferenceError } from '../../src/errors.ts';
import type { MediaInfo, MediaKind } from '../../src/core/types.ts';
import type { MediaRole, StoredMedia } from '../../src/store/types.ts';

function media(
  id: string,
  kind: MediaKind,
  role: MediaRole,
  ordinal: number | null,
  parentId: string | null = null,
  turnId: string | null = null,
): StoredMedia {
  return {
    id,
    kind,
    role,
    ordinal,
    parentId,
    turnId,
    sha256: id.padEnd(64, '0'),
    mime: kind === 'image' ? 'image/png' : 'video/mp4',
    bytes: 1,
    width: 1,
    height: 1,
    conversationId: 'c',
    label: null,
    jobId: null,
    invocation: null,
    createdAt: new Date(0),
  };
}

// i1 (upload, turn t1) → mask → i2 (result of i1) ; v1 (upload, turn t2) ; i3 (frame of v1) ; current i2
const I1 = media('i1', 'image', 'upload', 1, null, 't1');
const MASK = media('mask', 'image', 'mask', null, 'i1');
const I2 = media('i2', 'image', 'result', 2, 'i1');
const V1 = media('v1', 'video', 'upload', 1, null, 't2');
const I3 = media('i3', 'image', 'frame', 3, 'v1');
const all: ReferenceContext = { media: [I1, MASK, I2, V1, I3], currentId: 'i2' };
const imagesOnly: ReferenceContext = { media: [I1, MASK, I2], currentId: 'i2' };

const id = (ref: string, context: ReferenceContext = all) => resolveReference(ref, context).id;
function question(ref: string, context: ReferenceContext): string {
  try {
    resolveReference(ref, context);
  } catch (error) {
    expect(error).toBeInstanceOf(UnresolvedReferenceError);
    return (error as Error).message;
  }
  throw new Error(`${ref} resolved, but a question was expected`);
}

describe('resolveReference', () => {
  it('resolves "current" (and "it") to the cursor', () => {
    expect(id('current')).toBe('i2');
    expect(id('it')).toBe('i2');
  });

  it('resolves "original" to the root of the current lineage and "previous" to its parent', () => {
    expect(id('original')).toBe('i1');
    expect(id('previous')).toBe('i1');
    expect(id('original', { ...all, currentId: 'i3' })).toBe('v1');
  });

  it('looks through a mask to the image it was made from', () => {
    const fromMask = media('i4', 'image', 'result', 4, 'mask');
    const context = { media: [...all.media, fromMask], currentId: 'i4' };
    expect(id('previous', context)).toBe('i1');
    expect(id('original', context)).toBe('i1');
  });

  it('resolves "image:other" to the latest version of the one picture of another lineage than the current one', () => {
    // i2 is made from i1, so i1 is not "the other" one; i3 (a frame of v1) is.
    expect(id('image:other')).toBe('i3');
    const j1 = media('j1', 'image', 'upload', 3, null, 't1');
    const j2 = media('j2', 'image', 'result', 4, 'j1');
    expect(id('image:other', { media: [I1, j1, MASK, I2, j2], currentId: 'i2' })).toBe('j2');
    expect(id('image:other', { media: [I1, j1, MASK, I2, j2], currentId: 'j2' })).toBe('i2');
    expect(id('video:other', { ...all, currentId: 'i2' })).toBe('v1');
  });

  it('asks which one when there is no other picture, or several', () => {
    expect(question('image:other', imagesOnly)).toBe('There is no other image in this conversation — which one do you mean?');
    const j1 = media('j1', 'image', 'upload', 3, null, 't1');
    const k1 = media('k1', 'image', 'upload', 4, null, 't1');
    expect(question('image:other', { media: [I1, j1, k1, I2], currentId: 'i2' })).toBe(
      'There are 2 other images here (image #3, image #4) — which one do you mean?',
    );
  });

  it('asks when "previous" has no earlier version', () => {
    expect(question('previous', { ...all, currentId: 'i1' })).toBe('There is no earlier version of image #1: it is the original. Which one do you mean?');
  });

  it('resolves numbered images and videos by the numbers users see, masks not counted', () => {
    expect(id('image:1')).toBe('i1');
    expect(id('image:2')).toBe('i2');
    expect(id('image:3')).toBe('i3');
    expect(id('video:1')).toBe('v1');
    expect(id('image:last')).toBe('i3');
    expect(id('video:last')).toBe('v1');
    expect(id('IMAGE:2')).toBe('i2');
  });

  it('resolves media:N in the order media were added, masks not counted', () => {
    expect(['media:1', 'media:2', 'media:3', 'media:4'].map((ref) => id(ref))).toEqual(['i1', 'i2', 'v1', 'i3']);
  });

  it('asks back for out-of-range numbers instead of guessing', () => {
    expect(question('image:4', all)).toBe('I only have 3 images in this conversation — which one do you mean?');
    expect(question('image:0', all)).toBe('I only have 3 images in this conversation — which one do you mean?');
    expect(question('image:2', { media: [I1], currentId: 'i1' })).toBe('I only have 1 image in this conversation — which one do you mean?');
    expect(question('video:2', all)).toBe('I only have 1 video in this conversation — which one do you mean?');
    expect(question('media:9', all)).toBe('I only have 4 files in this conversation — which one do you mean?');
  });

  it('suggests an upload when there is no video (or nothing at all)', () => {
    expect(question('video:1', imagesOnly)).toBe('There is no video in this conversation yet — upload one?');
    expect(question('video:last', imagesOnly)).toBe('There is no video in this conversation yet — upload one?');
    expect(question('current', { media: [], currentId: null })).toBe('There is no image or video in this conversation yet — upload one?');
    expect(question('original', { media: [], currentId: null })).toBe('There is no image or video in this conversation yet — upload one?');
  });

  it('never treats a mask as "current"', () => {
    expect(() => resolveReference('current', { ...all, currentId: 'mask' })).toThrow(UnresolvedReferenceError);
  });

  it('resolves "upload" to this turn’s first upload, or the latest turn with uploads', () => {
    expect(id('upload', { ...all, turnUploadIds: ['i1'] })).toBe('i1');
    expect(id('upload')).toBe('v1');
    expect(question('upload', { ...all, turnUploadIds: [] })).toMatch(/upload the image or video\?$/);
  });

  it('resolves "upload:N" to the N-th file of this turn, and asks when the turn has fewer', () => {
    expect(id('upload:1', { ...all, turnUploadIds: ['i1', 'v1'] })).toBe('i1');
    expect(id('upload:2', { ...all, turnUploadIds: ['i1', 'v1'] })).toBe('v1');
    expect(question('upload:3', { ...all, turnUploadIds: ['i1', 'v1'] })).toBe('Only 2 files are attached to this message — which one do you mean?');
    expect(question('upload:2', { ...all, turnUploadIds: [] })).toMatch(/upload the image or video\?$/);
  });

  it('resolves step:K to the first user-facing output of step K of the plan', () => {
    const out0: MediaInfo = { id: 'o0', sha256: 'x', kind: 'image', mime: 'image/png', bytes: 1, width: 1, height: 1 };
    const mask = media('o1m', 'image', 'mask', null);
    const result = media('o1r', 'image', 'result', 4);
    const context = { ...all, stepOutputs: [out0, [mask, result]] };
    expect(id('step:0', context)).toBe('o0');
    expect(id('step:1', context)).toBe('o1r');
    expect(question('step:2', context)).toMatch(/^Step 3 of this request has no image or video/);
    expect(question('step:0', all)).toMatch(/^Step 1 /);
  });

  it('asks about references it does not know', () => {
    expect(question('the dog picture', all)).toContain('which one do you mean?');
    expect(question('image:two', all)).toContain('which one do you mean?');
  });
});

describe('resolveReferences', () => {
  it('keeps the order of the targets', () => {
    expect(resolveReferences(['video:1', 'current', 'image:1'], all).map((m) => m.id)).toEqual(['v1', 'i2', 'i1']);
  });

  it('fails as a whole when one target is unresolvable', () => {
    expect(() => resolveReferences(['current', 'video:2'], all)).toThrow(UnresolvedReferenceError);
  });
});
