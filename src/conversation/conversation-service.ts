import type { PrismaClient } from '@prisma/client';
import type { Invocation, MediaInfo, MediaKind, OutputRole, PlanContext, TargetRef } from '../core/types.ts';
import { DuplicateEventError, InvalidArgumentError, NotFoundError } from '../errors.ts';
import { lockConversation, TRANSACTION_OPTIONS } from '../store/client.ts';
import { isUniqueViolation } from '../store/driver-errors.ts';
import { createRepositories, type Repositories } from '../store/repositories.ts';
import { isUserFacing, type JobRecord, type Conversation, type MediaFacts, type Platform, type StoredMedia, type Turn, type User } from '../store/types.ts';
import { applyNewMedia, jumpTo, redo, revert, undo, type LineageMove, type LineageNode, type LineageState } from './lineage.ts';
import { liveBatchSize } from './batch.ts';
import { FACT_TURNS, conversationFacts } from './facts.ts';
import { mediaName } from './naming.ts';
import { resolveReferences, type StepOutput } from './references.ts';

/** The owner is given either as a platform identity (found or created) or as a known user id. */
export type StartConversationInput = {
  platform: Platform;
  /** Discord thread id, Slack thread ts, playground tab id; starting again with the same one returns it. */
  externalId?: string | null | undefined;
  title?: string | null | undefined;
} & ({ user: { externalId: string; displayName?: string | null }; userId?: never } | { userId: string; user?: never });

export interface UploadInput extends MediaFacts {
  /** What the user called it, e.g. the file name. */
  label?: string | null;
}

export interface ResultInput extends MediaFacts {
  jobId: string;
  /** The media it was made from; null for generated media. */
  parentId: string | null;
  invocation: Invocation;
  role: OutputRole;
  label?: string | null;
  /** The turn that asked for it; defaults to the job's turn. */
  turnId?: string | null;
  /** A result becomes the conversation's current media unless this is false (the later pictures of a batch). */
  current?: boolean;
}

/** What a job's outcome is written through: everything inside one transaction. */
export interface OutcomeScope {
  repos: Repositories;
  /** The job, running (claimed from queued when its start was missed). */
  job: JobRecord;
  addResult(input: ResultInput): Promise<StoredMedia>;
  recordBotTurn(text: string): Promise<Turn>;
}

export interface CursorMove {
  current: StoredMedia;
  message: string;
  conversation: Conversation;
}

export interface HistoryEntry {
  turn: Turn;
  /** Uploads the turn brought and outputs of the jobs it asked for, in the order they were added. */
  media: StoredMedia[];
}

/**
 * A conversation's turns, its media and the lineage between them; the one place that moves the cursor
 * ("it") and the redo stack. Every cursor change runs in a transaction holding the conversation's row
 * lock, so two messages of one conversation arriving together cannot both move from the same cursor.
 */
export class ConversationService {
  private readonly repos: Repositories;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.repos = createRepositories(prisma, now);
  }

  get repositories(): Repositories {
    return this.repos;
  }

  /** The user with this platform identity, created on first sight. */
  identifyUser(platform: Platform, externalId: string, displayName?: string | null): Promise<User> {
    return this.repos.users.getOrCreate({ platform, externalId, ...(displayName === undefined ? {} : { displayName }) });
  }

  /** Creates the conversation, or returns the existing one with the same platform externalId. */
  async startConversation(input: StartConversationInput): Promise<Conversation> {
    const ownerId = input.userId ?? (await this.identifyUser(input.platform, input.user!.externalId, input.user!.displayName)).id;
    const { conversation } = await this.repos.conversations.create({
      platform: input.platform,
      externalId: input.externalId ?? null,
      ownerId,
      title: input.title ?? null,
    });
    return conversation;
  }

  findByExternalId(platform: Platform, externalId: string): Promise<Conversation | null> {
    return this.repos.conversations.findByExternalId(platform, externalId);
  }

  get(conversationId: string): Promise<Conversation> {
    return this.repos.conversations.get(conversationId);
  }

  listForOwner(ownerId: string, limit?: number): Promise<Conversation[]> {
    return this.repos.conversations.listForOwner(ownerId, limit);
  }

  recordUserTurn(conversationId: string, userId: string, text: string): Promise<Turn> {
    return this.repos.turns.add({ conversationId, author: 'user', userId, text });
  }

  recordBotTurn(conversationId: string, text: string): Promise<Turn> {
    return this.repos.turns.add({ conversationId, author: 'bot', text });
  }

  /** An upload becomes "it" and starts a new lineage; nothing undone before it can be redone. */
  addUpload(conversationId: string, turnId: string | null, media: UploadInput): Promise<StoredMedia> {
    return this.withLock(conversationId, async (repos) => {
      const stored = await repos.media.add({ ...media, conversationId, turnId, role: 'upload', parentId: null });
      await this.makeCurrent(repos, conversationId, stored);
      return stored;
    });
  }

  /**
   * A job output. A `result` becomes "it" and clears the redo stack (a new edit after an undo starts a
   * branch); masks, overlays, comparisons and frames are shown but do not move the cursor.
   */
  addResult(conversationId: string, input: ResultInput): Promise<StoredMedia> {
    return this.withLock(conversationId, (repos) => this.addResultIn(repos, conversationId, input));
  }

  /**
   * Records a finished job all at once: `write` adds the bot's turn, the results and the job's end in one
   * transaction under the conversation's lock, so a store that fails half way leaves nothing half-written
   * (the job stays running and its result can be recorded again), and two bot processes hearing the same
   * end record it once. Undefined when the job is no longer waiting for its result (recorded already,
   * cancelled meanwhile).
   */
  recordJobOutcome<T>(conversationId: string, jobId: string, write: (scope: OutcomeScope) => Promise<T>): Promise<T | undefined> {
    return this.withLock(conversationId, async (repos) => {
      let job = await repos.jobs.get(jobId);
      // A bot that was down while the job started (BullMQ) hears of it first as finished: claim it now.
      if (job.state === 'queued') job = (await repos.jobs.markRunning(jobId)) ?? job;
      if (job.state !== 'running') return undefined;
      return write({
        repos,
        job,
        addResult: (input) => this.addResultIn(repos, conversationId, input),
        recordBotTurn: (text) => repos.turns.add({ conversationId, author: 'bot', text }),
      });
    });
  }

  private async addResultIn(repos: Repositories, conversationId: string, input: ResultInput): Promise<StoredMedia> {
    const { jobId, parentId, invocation, role, label, turnId, current, ...facts } = input;
    const job = await repos.jobs.get(jobId);
    if (job.conversationId !== conversationId) throw new NotFoundError(`Job ${jobId} of conversation ${conversationId}`);
    if (parentId !== null) await this.mediaOf(repos, conversationId, parentId);
    const stored = await repos.media.add({
      ...facts,
      conversationId,
      turnId: turnId === undefined ? job.turnId : turnId,
      role,
      label: label ?? null,
      parentId,
      jobId,
      invocation,
    });
    if (role === 'result' && current !== false) await this.makeCurrent(repos, conversationId, stored);
    return stored;
  }

  undo(conversationId: string): Promise<CursorMove> {
    return this.move(conversationId, undo);
  }

  redo(conversationId: string): Promise<CursorMove> {
    return this.move(conversationId, redo);
  }

  revert(conversationId: string): Promise<CursorMove> {
    return this.move(conversationId, revert);
  }

  /** "Continue from this one" (a button on an older version): redo returns to where we were. */
  use(conversationId: string, mediaId: string): Promise<CursorMove> {
    return this.withLock(conversationId, async (repos) => {
      const target = await this.mediaOf(repos, conversationId, mediaId);
      if (!isUserFacing(target.role))
        throw new InvalidArgumentError(`${mediaName(target)} is a ${target.role}; pick an image or video to continue from.`, { mediaId });
      return this.moveLocked(repos, conversationId, (state) => jumpTo(state, mediaId));
    });
  }

  /** MediaInfo of each target; `turnId` tells which uploads "upload" means (default: the latest ones). */
  async resolveTargets(
    conversationId: string,
    targets: readonly TargetRef[],
    stepOutputs: readonly StepOutput[] = [],
    options: { turnId?: string } = {},
  ): Promise<MediaInfo[]> {
    const conversation = await this.repos.conversations.get(conversationId);
    const media = await this.repos.media.listForConversation(conversationId);
    const turnUploadIds = options.turnId === undefined ? undefined : media.filter((m) => m.turnId === options.turnId && m.role === 'upload').map((m) => m.id);
    return resolveReferences(targets, {
      media,
      currentId: conversation.currentMediaId,
      stepOutputs,
      ...(turnUploadIds === undefined ? {} : { turnUploadIds }),
    });
  }

  async current(conversationId: string): Promise<StoredMedia | null> {
    const conversation = await this.repos.conversations.get(conversationId);
    return conversation.currentMediaId === null ? null : this.repos.media.find(conversation.currentMediaId);
  }

  listMedia(conversationId: string): Promise<StoredMedia[]> {
    return this.repos.media.listForConversation(conversationId);
  }

  async history(conversationId: string, limit?: number): Promise<HistoryEntry[]> {
    await this.repos.conversations.get(conversationId);
    const [turns, media] = await Promise.all([this.repos.turns.list(conversationId, limit), this.repos.media.listForConversation(conversationId)]);
    const byTurn = new Map<string, StoredMedia[]>();
    for (const m of media) {
      if (m.turnId === null) continue;
      byTurn.set(m.turnId, [...(byTurn.get(m.turnId) ?? []), m]);
    }
    return turns.map((turn) => ({ turn, media: byTurn.get(turn.id) ?? [] }));
  }

  /** The invocations of the last job that succeeded, for "do the same to the video" and "again". */
  async lastInvocations(conversationId: string): Promise<Invocation[] | undefined> {
    const job = await this.repos.jobs.lastSucceeded(conversationId);
    return job === null || job.steps.length === 0 ? undefined : job.steps.map((step) => step.invocation);
  }

  /**
   * What the planner knows of the conversation, with this turn's attachments counted as if stored: the
   * turn is planned before anything of it is written, and each attachment becomes "it" when it is.
   */
  async planContext(conversationId: string, attachmentKinds: readonly MediaKind[], options: { facts?: boolean } = {}): Promise<PlanContext> {
    const conversation = await this.repos.conversations.get(conversationId);
    const all = await this.repos.media.listForConversation(conversationId);
    const media = all.filter((m) => isUserFacing(m.role));
    const current = media.find((m) => m.id === conversation.currentMediaId);
    const currentKind = attachmentKinds.at(-1) ?? current?.kind;
    const lastInvocations = await this.lastInvocations(conversationId);
    // An attachment is new media the batch did not make: "the second one" is then no longer about the grid.
    const lastBatch = attachmentKinds.length > 0 ? undefined : liveBatchSize(all);
    return {
      attachments: [...attachmentKinds],
      hasImage: attachmentKinds.includes('image') || media.some((m) => m.kind === 'image'),
      hasVideo: attachmentKinds.includes('video') || media.some((m) => m.kind === 'video'),
      ...(currentKind === undefined ? {} : { currentKind }),
      ...(lastInvocations === undefined ? {} : { lastInvocations }),
      ...(lastBatch === undefined ? {} : { lastBatch }),
      // Only a planner that reads the conversation pays for its turns.
      ...(options.facts ? { conversation: conversationFacts(all, conversation.currentMediaId, await this.repos.turns.list(conversationId, FACT_TURNS)) } : {}),
    };
  }

  /**
   * A user's turn with its uploads, and the conversation's title when it has none, in one transaction:
   * a store that fails half way leaves no turn without its files, nor files without their turn.
   */
  recordUserTurnWithUploads(
    conversationId: string,
    userId: string,
    text: string,
    uploads: readonly UploadInput[],
    options: { title?: string; eventKey?: string } = {},
  ): Promise<{ turn: Turn; uploaded: StoredMedia[] }> {
    const { title, eventKey } = options;
    return this.withLock(conversationId, async (repos) => {
      // Under the conversation's lock: a second delivery of the same event waits, then finds the first.
      if (eventKey !== undefined && (await repos.turns.findByEventKey(conversationId, eventKey))) throw new DuplicateEventError(eventKey);
      let turn: Turn;
      try {
        turn = await repos.turns.add({ conversationId, author: 'user', userId, text, ...(eventKey === undefined ? {} : { eventKey }) });
      } catch (error) {
        if (eventKey !== undefined && isUniqueViolation(error)) throw new DuplicateEventError(eventKey);
        throw error;
      }
      const uploaded: StoredMedia[] = [];
      for (const upload of uploads) {
        const stored = await repos.media.add({ ...upload, conversationId, turnId: turn.id, role: 'upload', parentId: null });
        await this.makeCurrent(repos, conversationId, stored);
        uploaded.push(stored);
      }
      if (title !== undefined) await repos.conversations.setTitle(conversationId, title);
      return { turn, uploaded };
    });
  }

  private move(conversationId: string, step: (state: LineageState) => LineageMove): Promise<CursorMove> {
    return this.withLock(conversationId, (repos) => this.moveLocked(repos, conversationId, step));
  }

  private async moveLocked(repos: Repositories, conversationId: string, step: (state: LineageState) => LineageMove): Promise<CursorMove> {
    const conversation = await repos.conversations.get(conversationId);
    const media = await repos.media.listForConversation(conversationId);
    const moved = step({ nodes: media.map(toNode), current: conversation.currentMediaId, redoStack: conversation.redoStack });
    const saved = await repos.conversations.setCursor(conversationId, moved.state.current, moved.state.redoStack);
    return { current: media.find((m) => m.id === moved.current.id)!, message: moved.message, conversation: saved };
  }

  private async makeCurrent(repos: Repositories, conversationId: string, media: StoredMedia): Promise<void> {
    const conversation = await repos.conversations.get(conversationId);
    const next = applyNewMedia({ nodes: [], current: conversation.currentMediaId, redoStack: conversation.redoStack }, toNode(media));
    await repos.conversations.setCursor(conversationId, next.current, next.redoStack);
  }

  private async mediaOf(repos: Repositories, conversationId: string, mediaId: string): Promise<StoredMedia> {
    const media = await repos.media.find(mediaId);
    if (media === null || media.conversationId !== conversationId) throw new NotFoundError(`Media ${mediaId} of conversation ${conversationId}`);
    return media;
  }

  private async withLock<T>(conversationId: string, fn: (repos: Repositories) => Promise<T>): Promise<T> {
    return this.prisma.$transaction(async (tx) => {
      if (!(await lockConversation(tx, conversationId))) throw new NotFoundError(`Conversation ${conversationId}`);
      return fn(createRepositories(tx, this.now));
    }, TRANSACTION_OPTIONS);
  }
}

function toNode(media: StoredMedia): LineageNode {
  return { id: media.id, parentId: media.parentId, createdAt: media.createdAt, kind: media.kind, ordinal: media.ordinal, role: media.role };
}
