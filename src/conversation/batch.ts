import { isUserFacing, type StoredMedia } from '../store/types.ts';

/**
 * Batches: the pictures one step of a job made together ("draw four foxes", "give me 3 variations"), shown as
 * one grid. They share the job, the invocation and the parent; each is a 'result' (the grid itself is a
 * 'grid', which nobody refers to). "the second one", "U2" after a grid mean its pictures (TargetRef `batch:N`).
 */

export interface Batch {
  /** The batch's pictures in the order they were made: "the first one" is members[0]. */
  members: StoredMedia[];
  /**
   * The conversation has not moved on from it: everything added since is work on one of its pictures ("U2",
   * "vary the first one"). After an upload or an edit of something else, "the second one" is no longer about it.
   */
  live: boolean;
}

function batchKey(media: StoredMedia): string | undefined {
  if (media.role !== 'result' || media.jobId === null) return undefined;
  return JSON.stringify([media.jobId, media.parentId, media.invocation]);
}

/** The latest batch of the conversation (media in the order they were added), if any step made several pictures. */
export function latestBatch(media: readonly StoredMedia[]): Batch | undefined {
  const groups = new Map<string, StoredMedia[]>();
  let latestKey: string | undefined;
  for (const m of media) {
    const key = batchKey(m);
    if (key === undefined) continue;
    const group = groups.get(key) ?? [];
    group.push(m);
    groups.set(key, group);
    if (group.length >= 2) latestKey = key;
  }
  if (latestKey === undefined) return undefined;
  const members = groups.get(latestKey)!;
  const ids = new Set(members.map((m) => m.id));
  const start = media.indexOf(members[0]!);
  const after = media.slice(start).filter((m) => !ids.has(m.id) && isUserFacing(m.role));
  const live = after.every((m) => m.role === 'result' && m.parentId !== null && ids.has(m.parentId));
  return { members, live };
}

/** PlanContext.lastBatch: how many pictures the live batch holds, else undefined. */
export function liveBatchSize(media: readonly StoredMedia[]): number | undefined {
  const batch = latestBatch(media);
  return batch?.live ? batch.members.length : undefined;
}
