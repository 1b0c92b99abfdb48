import type { MediaInfo, MediaKind, TargetRef } from '../core/types.ts';
import { UnresolvedReferenceError } from '../errors.ts';
import { isUserFacing, type StoredMedia } from '../store/types.ts';
import { latestBatch } from './batch.ts';
import { countOf, mediaName } from './naming.ts';

/**
 * Resolves the planner's symbolic targets ("current", "image:2", "step:0" …; see TargetRef) to media.
 * Pure. When a reference cannot be resolved the user gets a question back, never a guess: acting on the
 * wrong picture is worse than asking.
 */

/** What one step of a plan produced: its outputs in order (the first user-facing one is "its result"). */
export type StepOutput = MediaInfo | StoredMedia | readonly (MediaInfo | StoredMedia)[];

export interface ReferenceContext {
  /** Every media item of the conversation in the order it was added (masks included; they are skipped). */
  media: readonly StoredMedia[];
  currentId: string | null;
  /** The media attached to the turn being planned, in order; when absent, the latest turn with uploads. */
  turnUploadIds?: readonly string[];
  /** Outputs of the earlier steps of the same plan, by step index. */
  stepOutputs?: readonly StepOutput[];
}

export function resolveReferences(refs: readonly TargetRef[], context: ReferenceContext): MediaInfo[] {
  return refs.map((ref) => resolveReference(ref, context));
}

export function resolveReference(ref: TargetRef, context: ReferenceContext): MediaInfo {
  const visible = context.media.filter((m) => isUserFacing(m.role));
  const spec = ref.trim().toLowerCase();
  const numbered = /^(image|video|media):(\d+|last)$/.exec(spec);
  if (numbered !== null) return byNumber(ref, numbered[1] as MediaKind | 'media', numbered[2]!, visible);
  const another = /^(image|video|media):other$/.exec(spec);
  if (another !== null) return other(ref, another[1] as MediaKind | 'media', context, visible);
  const step = /^step:(\d+)$/.exec(spec);
  if (step !== null) return stepOutput(ref, Number(step[1]), context.stepOutputs ?? []);
  const attached = /^upload:(\d+)$/.exec(spec);
  if (attached !== null) return upload(ref, context, visible, Number(attached[1]));
  const picture = /^batch:(\d+)$/.exec(spec);
  if (picture !== null) return batchPicture(ref, Number(picture[1]), context.media);
  switch (spec) {
    case 'current':
    case 'it':
      return current(ref, context, visible);
    case 'original':
      return original(ref, context, visible);
    case 'previous':
      return previous(ref, context, visible);
    case 'upload':
      return upload(ref, context, visible);
    default:
      throw new UnresolvedReferenceError(`I could not tell which image or video you mean ("${ref}") — which one do you mean?`, { ref });
  }
}

function nothingYet(ref: TargetRef, kind?: MediaKind): UnresolvedReferenceError {
  const what = kind === undefined ? 'image or video' : kind;
  return new UnresolvedReferenceError(`There is no ${what} in this conversation yet — upload one?`, { ref, available: 0 });
}

function byNumber(ref: TargetRef, kind: MediaKind | 'media', which: string, visible: readonly StoredMedia[]): StoredMedia {
  const candidates = kind === 'media' ? visible : visible.filter((m) => m.kind === kind).sort((a, b) => (a.ordinal ?? 0) - (b.ordinal ?? 0));
  const noun = kind === 'media' ? undefined : kind;
  if (candidates.length === 0) throw nothingYet(ref, noun);
  if (which === 'last') return candidates.at(-1)!;
  const n = Number(which);
  // Media numbers follow the order they were added; image/video numbers are the ordinals shown to users.
  const found = kind === 'media' ? candidates[n - 1] : candidates.find((m) => m.ordinal === n);
  if (n >= 1 && found !== undefined) return found;
  const have = noun === undefined ? `${candidates.length} ${candidates.length === 1 ? 'file' : 'files'}` : countOf(candidates.length, noun);
  throw new UnresolvedReferenceError(`I only have ${have} in this conversation — which one do you mean?`, { ref, available: candidates.length });
}

function current(ref: TargetRef, context: ReferenceContext, visible: readonly StoredMedia[]): StoredMedia {
  const found = context.currentId === null ? undefined : visible.find((m) => m.id === context.currentId);
  if (found !== undefined) return found;
  if (visible.length === 0) throw nothingYet(ref);
  // There is media but no cursor (e.g. the current one was deleted): ask rather than pick one.
  throw new UnresolvedReferenceError(`I am not sure which image or video you mean — which one? (say e.g. "image 1")`, { ref, available: visible.length });
}

/** The nearest user-facing ancestor: a result made from a mask counts as made from the mask's image. */
function parentOf(media: StoredMedia, all: readonly StoredMedia[]): StoredMedia | undefined {
  const byId = new Map(all.map((m) => [m.id, m]));
  const seen = new Set([media.id]);
  let parent = media.parentId === null ? undefined : byId.get(media.parentId);
  while (parent !== undefined && !isUserFacing(parent.role) && !seen.has(parent.id)) {
    seen.add(parent.id);
    parent = parent.parentId === null ? undefined : byId.get(parent.parentId);
  }
  return parent !== undefined && isUserFacing(parent.role) ? parent : undefined;
}

function original(ref: TargetRef, context: ReferenceContext, visible: readonly StoredMedia[]): StoredMedia {
  return rootOf(current(ref, context, visible), context.media);
}

/** The first media of a lineage: what the user uploaded, or what a generator made from words. */
function rootOf(media: StoredMedia, all: readonly StoredMedia[]): StoredMedia {
  let node = media;
  const seen = new Set([node.id]);
  for (let parent = parentOf(node, all); parent !== undefined && !seen.has(parent.id); parent = parentOf(parent, all)) {
    seen.add(parent.id);
    node = parent;
  }
  return node;
}

/**
 * "the other photo": the latest version of the one picture (video, file) of another lineage than the current
 * media's. With several others the user is asked which, never given a guess.
 */
function other(ref: TargetRef, kind: MediaKind | 'media', context: ReferenceContext, visible: readonly StoredMedia[]): StoredMedia {
  const here = rootOf(current(ref, context, visible), context.media).id;
  const latestOfLineage = new Map<string, StoredMedia>();
  // `visible` is in the order media were added, so the last one set per lineage is its latest version.
  for (const m of visible) {
    if (kind !== 'media' && m.kind !== kind) continue;
    const root = rootOf(m, context.media).id;
    if (root !== here) latestOfLineage.set(root, m);
  }
  const others = [...latestOfLineage.values()];
  if (others.length === 1) return others[0]!;
  const noun = kind === 'media' ? 'file' : kind;
  if (others.length === 0) throw new UnresolvedReferenceError(`There is no other ${noun} in this conversation — which one do you mean?`, { ref, available: 0 });
  const names = others.map((m) => mediaName(m)).join(', ');
  throw new UnresolvedReferenceError(`There are ${others.length} other ${noun}s here (${names}) — which one do you mean?`, { ref, available: others.length });
}

function previous(ref: TargetRef, context: ReferenceContext, visible: readonly StoredMedia[]): StoredMedia {
  const node = current(ref, context, visible);
  const parent = parentOf(node, context.media);
  if (parent !== undefined) return parent;
  throw new UnresolvedReferenceError(`There is no earlier version of ${mediaName(node)}: it is the original. Which one do you mean?`, { ref });
}

/** `upload` is the first file of the turn; `upload:N` its N-th (a tool call that sends a picture and its mask). */
function upload(ref: TargetRef, context: ReferenceContext, visible: readonly StoredMedia[], n = 1): StoredMedia {
  const uploads = visible.filter((m) => m.role === 'upload');
  let attached: StoredMedia[];
  if (context.turnUploadIds !== undefined) {
    attached = context.turnUploadIds.map((id) => uploads.find((m) => m.id === id)).filter((m) => m !== undefined);
  } else {
    const latestTurn = uploads.at(-1)?.turnId;
    attached = uploads.filter((m) => m.turnId === latestTurn);
  }
  const found = attached[n - 1];
  if (found !== undefined) return found;
  if (attached.length === 0 || n < 1)
    throw new UnresolvedReferenceError('I do not see a file attached to this message — could you upload the image or video?', { ref, available: 0 });
  throw new UnresolvedReferenceError(
    `Only ${attached.length} ${attached.length === 1 ? 'file is' : 'files are'} attached to this message — which one do you mean?`,
    {
      ref,
      available: attached.length,
    },
  );
}

function stepOutput(ref: TargetRef, k: number, steps: readonly StepOutput[]): MediaInfo {
  const output = steps[k];
  const list: readonly (MediaInfo | StoredMedia)[] = output === undefined ? [] : Array.isArray(output) ? output : [output as MediaInfo];
  const result = list.find((m) => !('role' in m) || isUserFacing(m.role)) ?? list[0];
  if (result !== undefined) return result;
  // Only a planner writes step refs, so this is a plan that refers forward or to a step without media.
  throw new UnresolvedReferenceError(
    `Step ${k + 1} of this request has no image or video for the next step to work on — could you ask for it in two messages?`,
    {
      ref,
      steps: steps.length,
    },
  );
}

/** `batch:N`: the N-th picture of the latest batch (batch.ts), whether or not the conversation moved on since. */
function batchPicture(ref: TargetRef, n: number, media: readonly StoredMedia[]): StoredMedia {
  const batch = latestBatch(media);
  if (batch === undefined) {
    throw new UnresolvedReferenceError('There is no batch of pictures in this conversation to pick from — which image do you mean?', { ref, available: 0 });
  }
  const found = batch.members[n - 1];
  if (n >= 1 && found !== undefined) return found;
  const size = batch.members.length;
  throw new UnresolvedReferenceError(`The last batch has only ${size} pictures — which one do you mean?`, { ref, available: size });
}
