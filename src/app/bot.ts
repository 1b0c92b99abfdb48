import fs from 'node:fs/promises';
import os from 'node:os';
import { TASKS, argSpec, factsOf, isSessionTask } from '../core/tasks.ts';
import { BadInputError, DuplicateEventError, InvalidArgumentError, NotFoundError, asVitronError } from '../errors.ts';
import { parsePlan } from '../planner/plan-schema.ts';
import { inspectMedia } from '../media/inspect.ts';
import type { ClassifiableMedia } from '../safety/nsfw-classifier.ts';
import type { Plan, SafetyVerdict } from '../core/types.ts';
import type { UploadInput } from '../conversation/conversation-service.ts';
import type { Conversation, StoredMedia, Turn, User } from '../store/types.ts';
import type {
  AdmissionRequest,
  BotApi,
  BotEvent,
  ConversationView,
  HealthReport,
  HistoryView,
  IncomingFile,
  InvocationRequest,
  JobView,
  MediaView,
  TurnRequest,
  TurnResult,
  Unsubscribe,
  UserRef,
} from './bot-api.ts';
import { ConversationNotifier } from './notifier.ts';
import { PreviewLedger } from './preview-ledger.ts';
import { JobEventHandler } from './job-events.ts';
import { recoverUnfinishedJobs } from './job-recovery.ts';
import type { BotDeps } from './bot-deps.ts';
import { historyOf } from './history.ts';
import { submitJob } from './job-submission.ts';
import { guard, runSessionTask } from './session-tasks.ts';
import { toneOf, type Message } from './tone.ts';
import { conversationView, jobView, mediaView, turnView } from './views.ts';
import { longerClipSeconds, longestClipSeconds, madeToLength } from '../vision/tasks/video/clip-length.ts';

/**
 * The core behind every adapter: a turn comes in, media is checked and stored, the planner reads it,
 * session tasks (undo, help…) are answered at once, and the rest becomes one job whose result comes
 * back as a bot turn. Every problem reaches the user as a turn; nothing is thrown into the void.
 */
export class Bot implements BotApi {
  private readonly notifier: ConversationNotifier;
  private readonly previews = new PreviewLedger();
  private readonly jobEvents: JobEventHandler;
  private readonly unsubscribeQueue: () => void;

  constructor(private readonly deps: BotDeps) {
    this.notifier = new ConversationNotifier(deps.conversations, deps.queue);
    this.jobEvents = new JobEventHandler({ ...deps, notifier: this.notifier, previews: this.previews });
    this.unsubscribeQueue = deps.queue.subscribe((event) => this.jobEvents.onQueueEvent(event));
  }

  async close(): Promise<void> {
    this.unsubscribeQueue();
    await this.jobEvents.close();
  }

  // ---- conversations ------------------------------------------------------------------------------

  async startConversation(input: { user: UserRef; platform?: string; externalId?: string; title?: string }): Promise<ConversationView> {
    const user = await this.user(input.user);
    const conversation = await this.deps.conversations.startConversation({
      platform: input.platform ?? input.user.platform,
      externalId: input.externalId,
      userId: user.id,
      title: input.title,
    });
    return conversationView(conversation);
  }

  async listConversations(userRef: UserRef): Promise<ConversationView[]> {
    const user = await this.user(userRef);
    const list = await this.deps.repos.conversations.listForOwner(user.id);
    return list.map(conversationView);
  }

  history(conversationId: string): Promise<HistoryView> {
    return historyOf(this.deps.repos, this.notifier, conversationId, this.deps.limits);
  }

  async findConversation(platform: string, externalId: string): Promise<ConversationView | null> {
    const found = await this.deps.conversations.findByExternalId(platform, externalId);
    return found === null ? null : conversationView(found);
  }

  async getConversation(conversationId: string): Promise<ConversationView> {
    return conversationView(await this.deps.repos.conversations.get(conversationId));
  }

  subscribe(conversationId: string, listener: (event: BotEvent) => void): Unsubscribe {
    return this.notifier.events.subscribe(conversationId, listener);
  }

  subscribeAll(listener: (event: BotEvent) => void): Unsubscribe {
    return this.notifier.events.subscribeAll(listener);
  }

  helpText(): string {
    return this.deps.helpText();
  }

  async job(jobId: string): Promise<JobView> {
    return this.notifier.jobView(await this.deps.repos.jobs.get(jobId));
  }

  async media(mediaId: string): Promise<{ view: MediaView; path: string }> {
    const media = await this.deps.repos.media.find(mediaId);
    if (!media) throw new NotFoundError(`Media ${mediaId}`);
    return { view: mediaView(media), path: await this.deps.blobs.localPath(media.sha256) };
  }

  async preview(sha256: string): Promise<{ path: string; mime: string }> {
    // Only a well-formed content address reaches the store: this is a URL path segment in the playground.
    // Only previews this process announced: results and uploads go out through media(), and its safety screen.
    if (!this.previews.has(sha256) || !(await this.deps.blobs.has(sha256))) throw new NotFoundError(`Preview ${sha256.slice(0, 64)}`);
    const path = await this.deps.blobs.localPath(sha256);
    const head = Buffer.alloc(4);
    const file = await fs.open(path, 'r');
    try {
      await file.read(head, 0, 4, 0);
    } finally {
      await file.close();
    }
    return { path, mime: head[0] === 0x89 && head[1] === 0x50 ? 'image/png' : 'image/jpeg' };
  }

  async health(): Promise<HealthReport> {
    const { db, queue, ffmpeg, readiness } = this.deps;
    let store: HealthReport['store'];
    try {
      store = { ok: await db.ping(), kind: db.kind };
    } catch (error) {
      store = { ok: false, kind: db.kind, error: asVitronError(error).message };
    }
    const loaded = new Set(this.deps.loadedModels());
    const models = readiness.models().map((m) => ({ ...m, loaded: loaded.has(m.name) }));
    const stats = queue.stats();
    const ffmpegOk = ffmpeg.ffmpeg.length > 0;
    return {
      ok: store.ok && ffmpegOk,
      store,
      queue: { ok: true, kind: queue.kind, ...stats },
      ffmpeg: { ok: ffmpegOk, ...(ffmpeg.version ? { version: ffmpeg.version } : {}) },
      models,
    };
  }

  // ---- turns ----------------------------------------------------------------------------------------

  /** Jobs are counted in the store, which every bot process shares. */
  async admit(request: AdmissionRequest): Promise<void> {
    const user = await this.user(request.user);
    await this.deps.admission.admit(request, async () => {
      const { queued, running } = await this.deps.repos.jobs.countUnfinishedForUser(user.id);
      return queued + running;
    });
  }

  /**
   * Everything that writes nothing comes first (checking and storing the files' bytes, planning), then the
   * user's turn and its uploads are written in one transaction: a database lost before or during that
   * leaves nothing of the turn behind, and the caller hears StoreUnavailableError ("try again").
   */
  handleTurn(request: TurnRequest): Promise<TurnResult> {
    return this.runTurn(request, async (text, prepared) => {
      const { planner, conversations, readiness } = this.deps;
      const kinds = prepared.map((m) => m.kind);
      if (!planner.readsConversation) return planner.plan(text, await conversations.planContext(request.conversationId, kinds));
      const context = await conversations.planContext(request.conversationId, kinds, { facts: true });
      return planner.plan(text, {
        ...context,
        runnable: TASKS.filter((task) => readiness.canRun(task)),
        picture: () => this.pictureOf(request.conversationId, prepared),
      });
    });
  }

  /** The picture a turn is about: its first attached image, else the conversation's current image. */
  private async pictureOf(conversationId: string, prepared: readonly UploadInput[]): Promise<Uint8Array | undefined> {
    const attached = prepared.find((m) => m.kind === 'image');
    const current = attached ? undefined : await this.deps.conversations.current(conversationId);
    const sha256 = attached?.sha256 ?? (current?.kind === 'image' ? current.sha256 : undefined);
    return sha256 === undefined ? undefined : fs.readFile(await this.deps.blobs.localPath(sha256));
  }

  /**
   * The planner is skipped, nothing else is: the invocation is checked against the plan contract (task, target
   * references, arguments from the task table) and then recorded, limited, checked and queued like a planned one.
   */
  invoke(request: InvocationRequest): Promise<TurnResult> {
    return this.runTurn(request, async () => {
      try {
        return parsePlan({ invocations: [request.invocation] });
      } catch (error) {
        if (error instanceof InvalidArgumentError) return { invocations: [], reply: `That request is not valid: ${error.message}`, rejected: true };
        throw error;
      }
    });
  }

  private async runTurn(request: TurnRequest, planOf: (text: string, prepared: UploadInput[]) => Promise<Plan & { rejected?: boolean }>): Promise<TurnResult> {
    const { conversations, repos } = this.deps;
    const { eventKey } = request;
    if (eventKey !== undefined) {
      const seen = await repos.turns.findByEventKey(request.conversationId, eventKey);
      if (seen) return this.replay(seen);
    }
    const user = await this.user(request.user);
    const conversation = await repos.conversations.get(request.conversationId);
    const text = request.text.trim();
    const { prepared, problems } = await this.prepareUploads(request.files);
    const allFilesFailed = problems.length > 0 && prepared.length === 0;
    const plan = allFilesFailed ? undefined : await planOf(text, prepared);

    let recorded: { turn: Turn; uploaded: StoredMedia[] };
    try {
      const title = titleFor(conversation, text);
      recorded = await conversations.recordUserTurnWithUploads(request.conversationId, user.id, text, prepared, {
        ...(title === undefined ? {} : { title }),
        ...(eventKey === undefined ? {} : { eventKey }),
      });
    } catch (error) {
      // The same event arrived twice at once; the other delivery recorded it while this one planned.
      if (error instanceof DuplicateEventError) return this.replay((await repos.turns.findByEventKey(request.conversationId, error.eventKey))!);
      throw error;
    }
    const { turn: userTurn, uploaded } = recorded;
    const userView = turnView(userTurn, uploaded);
    this.notifier.publish({ type: 'turn', conversationId: request.conversationId, turn: userView });

    // Every file failed: answer about the files and run nothing, or the words would land on older media.
    if (!plan) {
      const retry = text === '' ? '' : '\nNothing was done; send the file again once it is fixed.';
      return { userTurn: userView, botTurn: await this.notifier.reply(request.conversationId, `${problems.join('\n')}${retry}`, 'error') };
    }

    const messages: Message[] = problems.map((p) => ({ text: p, tone: 'error' }));
    let job: JobView | undefined;
    let operatorHint: string | undefined;

    const session = plan.invocations.filter((i) => isSessionTask(i.task));
    const work = plan.invocations.filter((i) => !isSessionTask(i.task));
    for (const invocation of session) messages.push(await runSessionTask(this.deps, request.conversationId, user, invocation.task));
    if (work.length > 0) {
      const embedded = this.deps.embed ? await this.deps.embed(work) : work;
      const started = await submitJob(this.deps, request.conversationId, user, userTurn, embedded);
      if ('error' in started) {
        messages.push({ text: started.error, tone: 'error' });
        operatorHint = started.operatorHint;
      } else job = started.job;
    }
    if (plan.reply) messages.push({ text: plan.reply, tone: plan.rejected ? 'error' : plan.invocations.length === 0 ? 'question' : 'normal' });
    if (plan.invocations.length === 0 && !plan.reply) {
      messages.push({ text: 'I did not understand that. Type "help" to see what I can do.', tone: 'question' });
    }

    const said = messages.length > 0 ? await this.notifier.reply(request.conversationId, messages.map((m) => m.text).join('\n'), toneOf(messages)) : undefined;
    // The hint rides on the answer to the caller only: it was not published, and is not in the history.
    const botTurn = said && operatorHint !== undefined ? { ...said, operatorHint } : said;
    return { userTurn: job ? { ...userView, job } : userView, ...(botTurn ? { botTurn } : {}), ...(job ? { job } : {}) };
  }

  async act(input: { conversationId: string; user: UserRef; action: 'undo' | 'redo' | 'revert' | 'use'; mediaId?: string }): Promise<TurnResult> {
    const user = await this.user(input.user);
    // A button press is recorded as the words the user would have said: the session task's example.
    const words = input.action === 'use' ? 'use this one' : factsOf(input.action).example;
    const userTurn = await this.deps.conversations.recordUserTurn(input.conversationId, user.id, words);
    const userView = turnView(userTurn, []);
    this.notifier.publish({ type: 'turn', conversationId: input.conversationId, turn: userView });
    let message: Message;
    if (input.action === 'use') {
      if (!input.mediaId) throw new BadInputError('INVALID_ARGUMENT', 'Which image or video should I continue from? (mediaId is missing)');
      message = await guard(async () => (await this.deps.conversations.use(input.conversationId, input.mediaId!)).message);
    } else {
      message = await runSessionTask(this.deps, input.conversationId, user, input.action);
    }
    return { userTurn: userView, botTurn: await this.notifier.reply(input.conversationId, message.text, message.tone) };
  }

  async repeat(input: { conversationId: string; user: UserRef; mediaId: string; longer?: boolean }): Promise<TurnResult> {
    const user = await this.user(input.user);
    const userTurn = await this.deps.conversations.recordUserTurn(input.conversationId, user.id, input.longer ? 'longer' : 'again');
    const userView = turnView(userTurn, []);
    this.notifier.publish({ type: 'turn', conversationId: input.conversationId, turn: userView });
    const found = await this.deps.repos.media.find(input.mediaId);
    // Another conversation's media is not found here: a button of one thread never works on another.
    const media = found?.conversationId === input.conversationId ? found : null;
    const made = media?.invocation ?? null;
    if (!media || !made) {
      const text = media ? 'That one is an upload, not something I made, so there is nothing to repeat.' : 'I cannot find that picture any more.';
      return { userTurn: userView, botTurn: await this.notifier.reply(input.conversationId, text, 'error') };
    }
    // Longer: the same request and seed with twice the length, within what made the clip and the chat's limits.
    const seconds = input.longer ? longerClipSeconds(media, this.deps.limits) : undefined;
    if (input.longer && seconds === undefined) {
      const text =
        media.kind === 'video' && madeToLength(made.task)
          ? `That clip is already as long as I make them here (${Math.round(longestClipSeconds(media, this.deps.limits) * 10) / 10} s).`
          : 'Only a video I made from a picture or from words can be made longer.';
      return { userTurn: userView, botTurn: await this.notifier.reply(input.conversationId, text, 'error') };
    }
    if (media.parentId !== null) await this.deps.conversations.use(input.conversationId, media.parentId);
    // One picture of a batch is repeated as itself: its own seed, alone.
    const alone = argSpec(made.task, 'count') === undefined ? {} : { count: 1 };
    const same = media.generation && media.role === 'result' ? { ...made.args, seed: media.generation.seed, ...alone } : made.args;
    const args = seconds === undefined ? same : { ...same, seconds };
    const invocation = { ...made, args, targets: made.targets.length > 0 && media.parentId !== null ? ['current'] : [] };
    const started = await submitJob(this.deps, input.conversationId, user, userTurn, [invocation]);
    if ('error' in started) return { userTurn: userView, botTurn: await this.notifier.reply(input.conversationId, started.error, 'error') };
    return { userTurn: { ...userView, job: started.job }, job: started.job };
  }

  async cancelJob(jobId: string, userRef: UserRef): Promise<JobView> {
    const user = await this.user(userRef);
    const job = await this.deps.repos.jobs.get(jobId);
    if (job.userId !== user.id) throw new BadInputError('NOT_FOUND', 'Only the person who started a job can cancel it.');
    if (!(await this.deps.queue.cancel(jobId))) {
      // Not in this process's queue (finished, or left over from a stop): settle it in the store.
      const cancelled = await this.deps.repos.jobs.cancel(jobId);
      if (cancelled) await this.notifier.reportEnd(cancelled, 'Cancelled.');
    }
    return this.job(jobId);
  }

  async authorize(ref: UserRef, target: { conversationId: string } | { jobId: string } | { mediaId: string }): Promise<void> {
    const { repos } = this.deps;
    let conversationId: string;
    let unknown: NotFoundError;
    if ('conversationId' in target) {
      conversationId = target.conversationId;
      unknown = new NotFoundError(`Conversation ${conversationId}`);
    } else if ('jobId' in target) {
      unknown = new NotFoundError(`Job ${target.jobId}`);
      const job = await repos.jobs.find(target.jobId);
      if (!job) throw unknown;
      conversationId = job.conversationId;
    } else {
      unknown = new NotFoundError(`Media ${target.mediaId}`);
      const media = await repos.media.find(target.mediaId);
      if (!media) throw unknown;
      conversationId = media.conversationId;
    }
    const conversation = await repos.conversations.find(conversationId);
    // Looked up, not created: a stranger's request leaves no user row behind.
    const user = await repos.users.findByIdentity(ref.platform, ref.externalId);
    if (!conversation || conversation.ownerId === null || !user || conversation.ownerId !== user.id) throw unknown;
  }

  mediaLink(mediaId: string): string {
    return this.deps.links.link(mediaId);
  }

  async openMediaLink(mediaId: string, link: { expires: string; sig: string }): Promise<{ view: MediaView; path: string }> {
    if (!this.deps.links.verify(mediaId, link.expires, link.sig)) throw new NotFoundError(`Media ${mediaId}`);
    return this.media(mediaId);
  }

  // ---- internals ------------------------------------------------------------------------------------

  private async user(ref: UserRef): Promise<User> {
    return this.deps.repos.users.getOrCreate({ platform: ref.platform, externalId: ref.externalId, displayName: ref.name ?? null });
  }

  /** What a redelivered event gets: the first delivery's turn and job, and nothing done again. */
  private async replay(turn: Turn): Promise<TurnResult> {
    const { repos } = this.deps;
    const uploads = (await repos.media.listForConversation(turn.conversationId)).filter((m) => m.turnId === turn.id && m.role === 'upload');
    const job = (await repos.jobs.listForConversation(turn.conversationId, 200)).find((j) => j.turnId === turn.id);
    const view = turnView(turn, uploads);
    return job ? { userTurn: { ...view, job: jobView(job) }, job: jobView(job), duplicate: true } : { userTurn: view, duplicate: true };
  }

  /**
   * Checks each file and stores its bytes (content-addressed: bytes of a turn that is never written are
   * only unreferenced blobs); a bad file becomes a message, the others still count.
   */
  private async prepareUploads(files: IncomingFile[]): Promise<{ prepared: UploadInput[]; problems: string[] }> {
    const prepared: UploadInput[] = [];
    const problems: string[] = [];
    for (const [index, file] of files.entries()) {
      const name = file.name ? `"${file.name}"` : files.length > 1 ? `File ${index + 1}` : 'The file';
      try {
        const facts = await inspectMedia(file.bytes, { limits: this.deps.limits, ffmpeg: this.deps.ffmpeg, tmpDir: os.tmpdir() });
        const { sha256 } = await this.deps.blobs.put(file.bytes);
        prepared.push({ ...facts, sha256, ...(await this.classifyUpload(facts, file.bytes, sha256)) });
      } catch (error) {
        if (!(error instanceof BadInputError)) throw error;
        problems.push(`${name}: ${error.message}`);
      }
    }
    return { prepared, problems };
  }

  /**
   * Safety: every upload gets a verdict like every output does, so an upload never reaches a place through
   * a later step (a variation, a frame of it) unclassified. The model loads on the first upload, not at start.
   */
  private async classifyUpload(
    facts: { kind: 'image' | 'video'; durationSec?: number },
    bytes: Uint8Array,
    sha256: string,
  ): Promise<{ safety?: SafetyVerdict }> {
    const { classify, blobs } = this.deps;
    if (!classify) return {};
    const media: ClassifiableMedia =
      facts.kind === 'image' ? { kind: 'image', bytes } : { kind: 'video', file: await blobs.localPath(sha256), durationSec: facts.durationSec };
    return { safety: await classify(media) };
  }

  // ---- recovery -----------------------------------------------------------------------------------------

  recoverUnfinishedJobs(): Promise<{ resumed: number; reported: number }> {
    return recoverUnfinishedJobs({ ...this.deps, notifier: this.notifier });
  }
}

/** A new conversation takes its first words as its title, as chat apps do. */
function titleFor(conversation: Conversation, text: string): string | undefined {
  if (text === '' || conversation.title) return undefined;
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
