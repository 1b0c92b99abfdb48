import type { Conversation as ConversationRow, Job as JobRow, Media as MediaRow, Turn as TurnRow, User as UserRow } from '@prisma/client';
import type { GenerationFacts, Invocation, SafetyVerdict } from '../core/types.ts';
import type { Conversation, JobRecord, ResolvedStep, StoredMedia, Turn, User } from './types.ts';

/** Prisma rows → the plain domain types of ./types.ts. Optional columns become absent, not null. */

export function toUser(row: UserRow): User {
  return { id: row.id, platform: row.platform, externalId: row.externalId, displayName: row.displayName, createdAt: row.createdAt };
}

export function toConversation(row: ConversationRow): Conversation {
  return {
    id: row.id,
    ownerId: row.ownerId,
    platform: row.platform,
    externalId: row.externalId,
    title: row.title,
    currentMediaId: row.currentMediaId,
    redoStack: [...row.redoStack],
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

export function toTurn(row: TurnRow): Turn {
  return {
    id: row.id,
    conversationId: row.conversationId,
    author: row.author,
    userId: row.userId,
    text: row.text,
    seq: row.seq,
    eventKey: row.eventKey,
    createdAt: row.createdAt,
  };
}

export function toMedia(row: MediaRow): StoredMedia {
  const media: StoredMedia = {
    id: row.id,
    sha256: row.sha256,
    kind: row.kind,
    mime: row.mime,
    bytes: Number(row.bytes),
    width: row.width,
    height: row.height,
    conversationId: row.conversationId,
    turnId: row.turnId,
    role: row.role,
    label: row.label,
    parentId: row.parentId,
    jobId: row.jobId,
    invocation: (row.invocation ?? null) as Invocation | null,
    ordinal: row.ordinal,
    createdAt: row.createdAt,
  };
  if (row.durationSec !== null) media.durationSec = row.durationSec;
  if (row.frameCount !== null) media.frameCount = row.frameCount;
  if (row.fps !== null) media.fps = row.fps;
  if (row.hasAudio !== null) media.hasAudio = row.hasAudio;
  if (row.generation !== null) media.generation = row.generation as unknown as GenerationFacts;
  if (row.safety !== null) media.safety = row.safety as unknown as SafetyVerdict;
  return media;
}

export function toJob(row: JobRow): JobRecord {
  const plan = row.plan as { steps?: ResolvedStep[] } | null;
  return {
    id: row.id,
    conversationId: row.conversationId,
    turnId: row.turnId,
    userId: row.userId,
    state: row.state,
    steps: plan?.steps ?? [],
    attempts: row.attempts,
    progress: { fraction: row.progressFraction, note: row.progressNote },
    error: row.errorCode === null ? null : { code: row.errorCode, message: row.errorMessage ?? '' },
    result: row.result ?? null,
    createdAt: row.createdAt,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
  };
}
