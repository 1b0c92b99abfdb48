import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  AdmissionRequest,
  BotApi,
  BotEvent,
  ConversationView,
  HealthReport,
  HistoryView,
  JobView,
  MediaView,
  TurnResult,
  TurnView,
  UserRef,
} from '../../src/app/bot-api.ts';
import { LimitReachedError, NotFoundError, StoreUnavailableError } from '../../src/errors.ts';
import type { Admission } from '../../src/limits/admission.ts';

/**
 * An in-memory BotApi for protocol-level tests of the web adapter: every call is recorded, turns with
 * files start a job that the test finishes by hand, and `failNext` makes the next call throw. Requests
 * are admitted by the core's own Admission when one is given (counting this fake's unfinished jobs), and
 * always without one.
 */
export class FakeBot implements BotApi {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-web-fake-'));
  readonly calls: { method: string; args: unknown[] }[] = [];
  readonly conversations = new Map<string, { view: ConversationView; owner: string; turns: TurnView[] }>();
  readonly mediaStore = new Map<string, { view: MediaView; path: string }>();
  readonly jobs = new Map<string, { job: JobView; conversationId: string }>();
  /** The conversation each upload came in, for authorize. */
  readonly mediaConversation = new Map<string, string>();
  readonly listeners = new Map<string, Set<(event: BotEvent) => void>>();
  readonly everything = new Set<(event: BotEvent) => void>();
  /** Who started each job, for the unfinished-jobs limit. */
  private readonly jobOwners = new Map<string, string>();
  /** Generation previews by content address, as a worker would have stored them (see addPreview). */
  readonly previews = new Map<string, { path: string; mime: string }>();
  /** Text turns that start a job (a generation: "draw a fox", "give me some variations"); none when unset. */
  textJobs?: RegExp;
  healthy = true;
  failNext?: Error;
  private seq = 0;
  private readonly callWaiters = new Set<{ method: string; resolve: (args: unknown[]) => void }>();
  private readonly listenerWaiters = new Set<() => void>();

  constructor(private readonly admission?: Admission) {}

  /**
   * The arguments of the first call of `method` from index `since` of `calls` on: a test waits for the call
   * itself rather than polling `calls` on a clock that a loaded machine outruns.
   */
  nextCall(method: string, since: number): Promise<unknown[]> {
    const made = this.calls.slice(since).find((c) => c.method === method);
    if (made) return Promise.resolve(made.args);
    return new Promise((resolve) => this.callWaiters.add({ method, resolve }));
  }

  /** Resolves once `conversationId` has `count` listeners: on the subscribe or unsubscribe itself, not a clock. */
  async listenersReach(conversationId: string, count: number): Promise<void> {
    while (this.listenerCount(conversationId) !== count) await new Promise<void>((resolve) => this.listenerWaiters.add(resolve));
  }

  private listenersChanged(): void {
    const waiting = [...this.listenerWaiters];
    this.listenerWaiters.clear();
    for (const wake of waiting) wake();
  }

  /** The next event of `type` this bot emits, to any conversation. */
  nextEvent<T extends BotEvent['type']>(type: T): Promise<Extract<BotEvent, { type: T }>> {
    return new Promise((resolve) => {
      const listener = (event: BotEvent) => {
        if (event.type !== type) return;
        this.everything.delete(listener);
        resolve(event as Extract<BotEvent, { type: T }>);
      };
      this.everything.add(listener);
    });
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  listenerCount(conversationId: string): number {
    return this.listeners.get(conversationId)?.size ?? 0;
  }

  private id(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.seq}`;
  }

  private record(method: string, ...args: unknown[]): void {
    this.calls.push({ method, args });
    for (const waiter of this.callWaiters) {
      if (waiter.method !== method) continue;
      this.callWaiters.delete(waiter);
      waiter.resolve(args);
    }
    const failure = this.failNext;
    if (failure) {
      this.failNext = undefined;
      throw failure;
    }
  }

  private conversation(id: string) {
    const found = this.conversations.get(id);
    if (!found) throw new NotFoundError(`Conversation ${id}`);
    return found;
  }

  private emit(event: BotEvent): void {
    for (const listener of [...(this.listeners.get(event.conversationId) ?? []), ...this.everything]) listener(event);
  }

  addMedia(bytes: Uint8Array, mime: string, role: MediaView['role'], extra: Partial<MediaView> = {}): MediaView {
    const sha = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.dir, sha);
    writeFileSync(file, bytes);
    const id = this.id('m');
    const view: MediaView = {
      id,
      kind: mime.startsWith('video/') ? 'video' : 'image',
      mime,
      width: 4,
      height: 4,
      bytes: bytes.length,
      role,
      url: `/api/media/${id}`,
      ...extra,
    };
    this.mediaStore.set(id, { view, path: file });
    return view;
  }

  async startConversation(input: { user: UserRef; platform?: string; externalId?: string; title?: string }): Promise<ConversationView> {
    this.record('startConversation', input);
    const now = new Date().toISOString();
    const view: ConversationView = {
      id: this.id('c'),
      title: input.title ?? 'New conversation',
      platform: input.platform ?? 'web',
      externalId: input.externalId ?? null,
      createdAt: now,
      updatedAt: now,
    };
    this.conversations.set(view.id, { view, owner: input.user.externalId, turns: [] });
    return view;
  }

  async listConversations(user: UserRef): Promise<ConversationView[]> {
    this.record('listConversations', user);
    return [...this.conversations.values()].filter((c) => c.owner === user.externalId).map((c) => c.view);
  }

  async history(conversationId: string): Promise<HistoryView> {
    this.record('history', conversationId);
    const c = this.conversation(conversationId);
    return { conversation: c.view, turns: c.turns, canUndo: false, canRedo: false };
  }

  async handleTurn(request: Parameters<BotApi['handleTurn']>[0]): Promise<TurnResult> {
    this.record('handleTurn', request);
    const c = this.conversation(request.conversationId);
    const media = request.files.map((f) => this.addMedia(f.bytes, 'image/png', 'upload'));
    for (const m of media) this.mediaConversation.set(m.id, request.conversationId);
    const userTurn: TurnView = { id: this.id('t'), role: 'user', text: request.text, media, createdAt: new Date().toISOString() };
    c.turns.push(userTurn);
    if (media.length === 0 && !this.textJobs?.test(request.text)) {
      const botTurn: TurnView = { id: this.id('t'), role: 'bot', text: `You said: ${request.text}`, media: [], createdAt: new Date().toISOString() };
      c.turns.push(botTurn);
      return { userTurn, botTurn };
    }
    const tasks = media.length === 0 ? ['generate_image'] : ['cutout'];
    const job: JobView = { id: this.id('j'), state: 'queued', tasks, queuePosition: 0, createdAt: new Date().toISOString() };
    this.jobs.set(job.id, { job, conversationId: c.view.id });
    this.jobOwners.set(job.id, request.user.externalId);
    this.emit({ type: 'job.queued', conversationId: c.view.id, job });
    return { userTurn, job };
  }

  /** An agent's tool call: its uploads recorded, and a queued job of the invocation's task. */
  async invoke(request: Parameters<BotApi['invoke']>[0]): Promise<TurnResult> {
    this.record('invoke', request);
    const c = this.conversation(request.conversationId);
    const media = request.files.map((f) => this.addMedia(f.bytes, 'image/png', 'upload'));
    const userTurn: TurnView = { id: this.id('t'), role: 'user', text: request.text, media, createdAt: new Date().toISOString() };
    c.turns.push(userTurn);
    const job: JobView = { id: this.id('j'), state: 'queued', tasks: [request.invocation.task], queuePosition: 0, createdAt: new Date().toISOString() };
    this.jobs.set(job.id, { job, conversationId: c.view.id });
    this.jobOwners.set(job.id, request.user.externalId);
    this.emit({ type: 'job.queued', conversationId: c.view.id, job });
    return { userTurn, job };
  }

  /** Not recorded in `calls`, and `failNext` is left for the call the test aims it at. */
  async admit(request: AdmissionRequest): Promise<void> {
    await this.admission?.admit(request, async () => {
      const mine = [...this.jobs].filter(
        ([id, { job }]) => this.jobOwners.get(id) === request.user.externalId && (job.state === 'queued' || job.state === 'running'),
      );
      return mine.length;
    });
  }

  /** Moves a job along, as a worker would, and tells subscribers; `preview` is one from addPreview. */
  progress(jobId: string, fraction: number, note: string, preview?: { sha256: string; mime: string }): void {
    const entry = this.jobs.get(jobId)!;
    entry.job = { ...entry.job, state: 'running', progress: { fraction, step: 1, steps: 2, note, ...(preview ? { preview } : {}) } };
    this.emit({ type: 'job.progress', conversationId: entry.conversationId, job: entry.job });
  }

  finish(jobId: string, text = 'Done.', media: MediaView[] = [], extra: Partial<Pick<TurnView, 'boxes' | 'choice' | 'tone'>> = {}): TurnView {
    const entry = this.jobs.get(jobId)!;
    entry.job = { ...entry.job, state: 'succeeded', finishedAt: new Date().toISOString() };
    const turn: TurnView = { id: this.id('t'), role: 'bot', text, media, job: entry.job, createdAt: new Date().toISOString(), ...extra };
    this.conversation(entry.conversationId).turns.push(turn);
    this.emit({ type: 'job.finished', conversationId: entry.conversationId, job: entry.job, turn });
    return turn;
  }

  async act(input: Parameters<BotApi['act']>[0]): Promise<TurnResult> {
    this.record('act', input);
    const c = this.conversation(input.conversationId);
    const now = new Date().toISOString();
    const userTurn: TurnView = { id: this.id('t'), role: 'user', text: input.action, media: [], createdAt: now };
    const botTurn: TurnView = { id: this.id('t'), role: 'bot', text: `Went back (${input.action}).`, media: [], createdAt: now };
    c.turns.push(userTurn, botTurn);
    return { userTurn, botTurn };
  }

  /** Stores a generation preview the way the worker does: by the sha256 of its bytes. */
  addPreview(bytes: Uint8Array, mime = 'image/png'): { sha256: string; mime: string } {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const file = path.join(this.dir, `preview-${sha256}`);
    writeFileSync(file, bytes);
    this.previews.set(sha256, { path: file, mime });
    return { sha256, mime };
  }

  /**
   * The media of a finished batch as the core lists them: each picture a 'result' ("variation 2 of 4",
   * its own seed), then one 'grid' of them side by side.
   */
  addBatch(pictures: Uint8Array[], grid: Uint8Array, prompt = 'a red fox in the snow', firstSeed = 1000): MediaView[] {
    const n = pictures.length;
    const results = pictures.map((bytes, i) =>
      this.addMedia(bytes, 'image/png', 'result', {
        label: `variation ${i + 1} of ${n}`,
        generation: { prompt, seed: firstSeed + i, steps: 4, width: 4, height: 4, engine: 'fake', model: 'fake-model' },
      }),
    );
    return [...results, this.addMedia(grid, 'image/png', 'grid', { label: `${n} variations` })];
  }

  async preview(sha256: string): Promise<{ path: string; mime: string }> {
    this.record('preview', sha256);
    const found = this.previews.get(sha256);
    if (!found) throw new NotFoundError(`Preview ${sha256}`);
    return found;
  }

  async repeat(input: Parameters<BotApi['repeat']>[0]): Promise<TurnResult> {
    this.record('repeat', input);
    const c = this.conversation(input.conversationId);
    const now = new Date().toISOString();
    const userTurn: TurnView = { id: this.id('t'), role: 'user', text: 'again', media: [], createdAt: now };
    const botTurn: TurnView = { id: this.id('t'), role: 'bot', text: `Repeating ${input.mediaId}.`, media: [], createdAt: now };
    c.turns.push(userTurn, botTurn);
    return { userTurn, botTurn };
  }

  async media(mediaId: string): Promise<{ view: MediaView; path: string }> {
    this.record('media', mediaId);
    const found = this.mediaStore.get(mediaId);
    if (!found) throw new NotFoundError(`Media ${mediaId}`);
    return found;
  }

  async cancelJob(jobId: string, user: UserRef): Promise<JobView> {
    this.record('cancelJob', jobId, user);
    const entry = this.jobs.get(jobId);
    if (!entry) throw new NotFoundError(`Job ${jobId}`);
    entry.job = { ...entry.job, state: 'cancelled' };
    return entry.job;
  }

  /**
   * The owner check of the real bot: conversations by their owner, jobs by their conversation, media by the
   * conversation they were uploaded to (media a test adds straight with addMedia belong to none and pass).
   */
  async authorize(user: UserRef, target: { conversationId: string } | { jobId: string } | { mediaId: string }): Promise<void> {
    this.record('authorize', user, target);
    const conversationId =
      'conversationId' in target
        ? target.conversationId
        : 'jobId' in target
          ? this.jobs.get(target.jobId)?.conversationId
          : this.mediaConversation.get(target.mediaId);
    if ('mediaId' in target && conversationId === undefined && this.mediaStore.has(target.mediaId)) return;
    const what = 'conversationId' in target ? `Conversation ${target.conversationId}` : 'jobId' in target ? `Job ${target.jobId}` : `Media ${target.mediaId}`;
    const owner = conversationId === undefined ? undefined : this.conversations.get(conversationId)?.owner;
    if (owner === undefined || owner !== user.externalId) throw new NotFoundError(what);
  }

  mediaLink(mediaId: string): string {
    return `/api/media/${mediaId}?expires=4102444800&sig=${'f'.repeat(64)}`;
  }

  async openMediaLink(mediaId: string, link: { expires: string; sig: string }): Promise<{ view: MediaView; path: string }> {
    this.record('openMediaLink', mediaId, link);
    if (link.sig !== 'f'.repeat(64)) throw new NotFoundError(`Media ${mediaId}`);
    return this.media(mediaId);
  }

  async job(jobId: string): Promise<JobView> {
    this.record('job', jobId);
    const entry = this.jobs.get(jobId);
    if (!entry) throw new NotFoundError(`Job ${jobId}`);
    return entry.job;
  }

  async findConversation(platform: string, externalId: string): Promise<ConversationView | null> {
    this.record('findConversation', platform, externalId);
    return [...this.conversations.values()].find((c) => c.view.platform === platform && c.view.externalId === externalId)?.view ?? null;
  }

  async getConversation(conversationId: string): Promise<ConversationView> {
    this.record('getConversation', conversationId);
    return this.conversation(conversationId).view;
  }

  subscribeAll(listener: (event: BotEvent) => void): () => void {
    this.record('subscribeAll');
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  subscribe(conversationId: string, listener: (event: BotEvent) => void): () => void {
    this.record('subscribe', conversationId);
    const set = this.listeners.get(conversationId) ?? new Set();
    set.add(listener);
    this.listeners.set(conversationId, set);
    this.listenersChanged();
    return () => {
      set.delete(listener);
      this.listenersChanged();
    };
  }

  helpText(): string {
    return 'Send me an image and tell me what to do with it.';
  }

  async health(): Promise<HealthReport> {
    this.record('health');
    return {
      ok: this.healthy,
      store: { ok: this.healthy, kind: 'memory' },
      queue: { ok: true, kind: 'in-process', running: 0, queued: 0 },
      ffmpeg: { ok: true, version: 'fake' },
      models: [],
    };
  }
}

export const errors = { LimitReachedError, StoreUnavailableError };
