import type { Invocation, JobState, MediaInfo, MediaKind, OutputRole } from '../core/types.ts';

/**
 * The store's domain types. Repositories return these plain objects so that nothing outside
 * src/store ever sees a Prisma type.
 */

export type Platform = string;

/** `upload`: a user attached it; every other role is a job output (see OutputRole). */
export type MediaRole = 'upload' | OutputRole;

/** Roles a user sees and refers to ("image #2", "it"); masks, overlays and comparisons are by-products. */
export const USER_FACING_ROLES: readonly MediaRole[] = ['upload', 'result', 'frame'];

export function isUserFacing(role: MediaRole): boolean {
  return USER_FACING_ROLES.includes(role);
}

export interface User {
  id: string;
  platform: Platform;
  externalId: string;
  displayName: string | null;
  createdAt: Date;
}

export interface Conversation {
  id: string;
  ownerId: string | null;
  platform: Platform;
  /** Discord thread id, Slack thread ts, playground tab id. */
  externalId: string | null;
  title: string | null;
  currentMediaId: string | null;
  /** Top of the stack last. */
  redoStack: string[];
  createdAt: Date;
  updatedAt: Date;
}

export type TurnAuthor = 'user' | 'bot';

export interface Turn {
  id: string;
  conversationId: string;
  author: TurnAuthor;
  /** null for the bot. */
  userId: string | null;
  text: string;
  /** 1, 2, 3 … within the conversation. */
  seq: number;
  /** The platform event behind a user's turn, when the adapter gave one (dedupe of redelivered events). */
  eventKey: string | null;
  createdAt: Date;
}

export interface StoredMedia extends MediaInfo {
  conversationId: string;
  turnId: string | null;
  role: MediaRole;
  label: string | null;
  /** Lineage: the media this one was made from. */
  parentId: string | null;
  jobId: string | null;
  invocation: Invocation | null;
  /** "image #N": per kind within the conversation, user-facing media only; null for masks etc. */
  ordinal: number | null;
  createdAt: Date;
}

/** What the media layer knows about a file, before it belongs to a conversation. */
export type MediaFacts = Omit<MediaInfo, 'id'>;

export interface NewMedia extends MediaFacts {
  conversationId: string;
  turnId?: string | null;
  role: MediaRole;
  label?: string | null;
  parentId?: string | null;
  jobId?: string | null;
  invocation?: Invocation | null;
}

/** One step of a job: the invocation as planned plus its targets resolved to media ids. */
export interface ResolvedStep {
  invocation: Invocation;
  targetIds: string[];
}

export interface JobError {
  code: string;
  message: string;
}

export interface JobRecord {
  id: string;
  conversationId: string;
  turnId: string | null;
  userId: string | null;
  state: JobState;
  steps: ResolvedStep[];
  attempts: number;
  progress: { fraction: number; note: string | null };
  error: JobError | null;
  /** Whatever summary the worker wrote on success (text answers, boxes, output media ids). */
  result: unknown;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export type { MediaKind };
