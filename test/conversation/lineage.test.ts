import { describe, expect, it } from 'vitest';
import { applyNewMedia, childrenOf, jumpTo, redo, revert, rootOf, undo, type LineageNode, type LineageState } from '../../src/conversation/lineage.ts';
import { NothingToRedoError, NothingToUndoError } from '../../src/errors.ts';

let clock = 0;
function node(id: string, parentId: string | null, extra: Partial<LineageNode> = {}): LineageNode {
  return {
    id,
    parentId,
    createdAt: new Date(Date.UTC(2025, 0, 1) + ++clock * 1000),
    kind: 'image',
    ordinal: Number(id.replace(/\D/g, '')) || null,
    role: parentId === null ? 'upload' : 'result',
    ...extra,
  };
}

/** upload a1 → edit a2 → edit a3, current a3 */
function chain(): LineageState {
  return { nodes: [node('a1', null), node('a2', 'a1'), node('a3', 'a2')], current: 'a3', redoStack: [] };
}

describe('undo', () => {
  it('moves to the parent and remembers where it came from', () => {
    const move = undo(chain());
    expect(move.state.current).toBe('a2');
    expect(move.state.redoStack).toEqual(['a3']);
    expect(move.message).toBe('Back to the previous version (image #2).');
    expect(undo(move.state)).toMatchObject({ state: { current: 'a1', redoStack: ['a3', 'a2'] }, message: 'Back to the previous version (image #1).' });
  });

  it('refuses at the original upload, saying so', () => {
    const state: LineageState = { nodes: [node('a1', null)], current: 'a1', redoStack: [] };
    expect(() => undo(state)).toThrow(NothingToUndoError);
    expect(() => undo(state)).toThrow('There is nothing to undo: this is the original image.');
  });

  it('refuses when the conversation has no media', () => {
    expect(() => undo({ nodes: [], current: null, redoStack: [] })).toThrow(NothingToUndoError);
  });

  it('skips masks and overlays on the way up', () => {
    const state: LineageState = {
      nodes: [node('a1', null), node('m', 'a1', { role: 'mask', ordinal: null }), node('a2', 'm')],
      current: 'a2',
      redoStack: [],
    };
    expect(undo(state).state.current).toBe('a1');
  });

  it('names videos and unnumbered media in its message', () => {
    const state: LineageState = { nodes: [node('v1', null, { kind: 'video', ordinal: 1 }), node('f', 'v1', { ordinal: 4 })], current: 'f', redoStack: [] };
    expect(undo(state).message).toBe('Back to the previous version (video #1).');
  });
});

describe('redo', () => {
  it('walks back down what undo walked up', () => {
    const twiceUndone = undo(undo(chain()).state).state;
    const once = redo(twiceUndone);
    expect(once).toMatchObject({ state: { current: 'a2', redoStack: ['a3'] }, message: 'Redone: back to image #2.' });
    expect(redo(once.state).state).toMatchObject({ current: 'a3', redoStack: [] });
  });

  it('refuses when nothing was undone', () => {
    expect(() => redo(chain())).toThrow(NothingToRedoError);
  });

  it('skips ids whose media no longer exist', () => {
    const state: LineageState = { ...chain(), current: 'a1', redoStack: ['a2', 'gone'] };
    expect(redo(state).state).toMatchObject({ current: 'a2', redoStack: [] });
  });
});

describe('revert', () => {
  it('goes to the root upload, and redo comes straight back', () => {
    const move = revert(chain());
    expect(move).toMatchObject({ state: { current: 'a1', redoStack: ['a3'] }, message: 'Back to the original (image #1).' });
    expect(redo(move.state).state.current).toBe('a3');
  });

  it('refuses at the original and with no media', () => {
    const atRoot: LineageState = { ...chain(), current: 'a1' };
    expect(() => revert(atRoot)).toThrow('There is nothing to revert: image #1 is already the original.');
    expect(() => revert({ nodes: [], current: null, redoStack: [] })).toThrow(NothingToUndoError);
  });

  it('follows the lineage of the current media, not the first upload of the conversation', () => {
    const state: LineageState = { nodes: [...chain().nodes, node('b4', null), node('b5', 'b4')], current: 'b5', redoStack: [] };
    expect(revert(state).state.current).toBe('b4');
    expect(rootOf(state, 'a3').id).toBe('a1');
  });
});

describe('a new edit', () => {
  it('clears the redo stack', () => {
    const undone = undo(chain()).state;
    const after = applyNewMedia(undone, node('a4', 'a2'));
    expect(after).toMatchObject({ current: 'a4', redoStack: [] });
    expect(() => redo(after)).toThrow(NothingToRedoError);
  });

  it('after an undo makes a sibling branch and keeps the undone one', () => {
    const undone = undo(chain()).state;
    const after = applyNewMedia(undone, node('a4', 'a2'));
    expect(childrenOf(after, 'a2').map((n) => n.id)).toEqual(['a3', 'a4']);
    expect(undo(after).state.current).toBe('a2');
  });

  it('does not duplicate a node that is already known', () => {
    const state = chain();
    expect(applyNewMedia(state, state.nodes[1]!).nodes).toHaveLength(3);
  });
});

describe('with a cycle in bad data', () => {
  it('does not loop forever', () => {
    const state: LineageState = { nodes: [node('a1', 'a2'), node('a2', 'a1')], current: 'a2', redoStack: [] };
    expect(['a1', 'a2']).toContain(rootOf(state, 'a2').id);
  });
});

describe('jumpTo', () => {
  it('makes a chosen version current and lets redo return', () => {
    const move = jumpTo(chain(), 'a1');
    expect(move).toMatchObject({ state: { current: 'a1', redoStack: ['a3'] }, message: 'Continuing from image #1.' });
    expect(redo(move.state).state.current).toBe('a3');
    const state = chain();
    expect(jumpTo(state, 'a3')).toMatchObject({ state, message: 'Already working on image #3.' });
  });

  it('refuses masks and unknown ids', () => {
    const state: LineageState = { nodes: [node('a1', null), node('m', 'a1', { role: 'mask', ordinal: null })], current: 'a1', redoStack: [] };
    expect(() => jumpTo(state, 'm')).toThrow();
    expect(() => jumpTo(state, 'zz')).toThrow();
  });
});
