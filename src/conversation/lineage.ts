import type { MediaKind } from '../core/types.ts';
import { NothingToRedoError, NothingToUndoError } from '../errors.ts';
import { isUserFacing, type MediaRole } from '../store/types.ts';
import { mediaName } from './naming.ts';

/**
 * Undo, redo and revert as moves of a cursor along the lineage tree (each media item points at the one
 * it was made from). Nothing is deleted: an undo followed by a new edit leaves the undone branch in the
 * tree as a sibling, and only the redo stack forgets it. Pure: the service loads and saves the state.
 */

export interface LineageNode {
  id: string;
  parentId: string | null;
  /** Orders siblings (branches) for display. */
  createdAt: Date;
  kind: MediaKind;
  ordinal: number | null;
  role: MediaRole;
}

export interface LineageState {
  nodes: readonly LineageNode[];
  current: string | null;
  /** Top last. */
  redoStack: readonly string[];
}

export interface LineageMove {
  state: LineageState;
  current: LineageNode;
  /** One line for the user. */
  message: string;
}

/** Masks and overlays are never a place to undo to: the walk skips them. */
function visibleParent(byId: ReadonlyMap<string, LineageNode>, node: LineageNode): LineageNode | undefined {
  const seen = new Set([node.id]);
  let parent = node.parentId === null ? undefined : byId.get(node.parentId);
  while (parent !== undefined && !isUserFacing(parent.role)) {
    // A cycle cannot come from the store, but a loop here would hang the bot, so guard anyway.
    if (seen.has(parent.id)) return undefined;
    seen.add(parent.id);
    parent = parent.parentId === null ? undefined : byId.get(parent.parentId);
  }
  return parent;
}

function index(state: LineageState): Map<string, LineageNode> {
  return new Map(state.nodes.map((node) => [node.id, node]));
}

function currentNode(state: LineageState, byId: ReadonlyMap<string, LineageNode>): LineageNode | undefined {
  return state.current === null ? undefined : byId.get(state.current);
}

function describeRoot(node: LineageNode): string {
  return node.role === 'upload' ? `this is the original ${node.kind}` : `${mediaName(node)} has no earlier version`;
}

export function undo(state: LineageState): LineageMove {
  const byId = index(state);
  const current = currentNode(state, byId);
  if (current === undefined) throw new NothingToUndoError('There is nothing to undo yet: there is no image or video in this conversation.');
  const parent = visibleParent(byId, current);
  if (parent === undefined) throw new NothingToUndoError(`There is nothing to undo: ${describeRoot(current)}.`);
  return {
    state: { nodes: state.nodes, current: parent.id, redoStack: [...state.redoStack, current.id] },
    current: parent,
    message: `Back to the previous version (${mediaName(parent)}).`,
  };
}

export function redo(state: LineageState): LineageMove {
  const byId = index(state);
  const stack = [...state.redoStack];
  while (stack.length > 0) {
    const target = byId.get(stack.pop()!);
    // An id whose media is gone (deleted conversation data) is skipped, not a dead end.
    if (target === undefined) continue;
    return { state: { nodes: state.nodes, current: target.id, redoStack: stack }, current: target, message: `Redone: back to ${mediaName(target)}.` };
  }
  throw new NothingToRedoError();
}

/** "Go back to the original": the root upload of the current lineage; redo returns to where we were. */
export function revert(state: LineageState): LineageMove {
  const byId = index(state);
  const current = currentNode(state, byId);
  if (current === undefined) throw new NothingToUndoError('There is nothing to revert yet: there is no image or video in this conversation.');
  const root = rootOf(state, current.id);
  if (root.id === current.id) throw new NothingToUndoError(`There is nothing to revert: ${mediaName(current)} is already the original.`);
  return {
    state: { nodes: state.nodes, current: root.id, redoStack: [...state.redoStack, current.id] },
    current: root,
    message: `Back to the original (${mediaName(root)}).`,
  };
}

/**
 * "Continue from this one": any user-facing media of the conversation becomes current. Like revert it is
 * a navigation, not an edit: where we were goes on the redo stack, so redo comes back.
 */
export function jumpTo(state: LineageState, id: string): LineageMove {
  const byId = index(state);
  const target = byId.get(id);
  if (target === undefined || !isUserFacing(target.role)) throw new Error(`lineage has no user-facing node ${id}`);
  if (target.id === state.current) return { state, current: target, message: `Already working on ${mediaName(target)}.` };
  const redoStack = state.current === null ? [...state.redoStack] : [...state.redoStack, state.current];
  return { state: { nodes: state.nodes, current: target.id, redoStack }, current: target, message: `Continuing from ${mediaName(target)}.` };
}

/** A new upload or edit result becomes current; what was undone before it can no longer be redone. */
export function applyNewMedia(state: LineageState, node: LineageNode): LineageState {
  const nodes = state.nodes.some((n) => n.id === node.id) ? state.nodes : [...state.nodes, node];
  return { nodes, current: node.id, redoStack: [] };
}

/** The oldest user-facing ancestor of a node (the node itself when it has none). */
export function rootOf(state: LineageState, id: string): LineageNode {
  const byId = index(state);
  let node = byId.get(id);
  if (node === undefined) throw new Error(`lineage has no node ${id}`);
  const seen = new Set([node.id]);
  for (let parent = visibleParent(byId, node); parent !== undefined && !seen.has(parent.id); parent = visibleParent(byId, parent)) {
    seen.add(parent.id);
    node = parent;
  }
  return node;
}

/** The branches made from a node, oldest first. */
export function childrenOf(state: LineageState, id: string): LineageNode[] {
  return state.nodes.filter((n) => n.parentId === id).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
}
