/**
 * What adapters (web playground, Discord, Slack) see of the core: platform-free turns in, views and
 * events out. Nothing here knows about HTTP, discord.js or Bolt.
 */
import type { Box, Choice, GenerationFacts, Invocation, JobProgress, JobState, MediaKind, OutputRole, SafetyVerdict } from '../core/types.ts';
import type { ErrorCode } from '../errors.ts';

export interface UserRef {
  platform: string;
  externalId: string;
  name?: string;
}

export interface IncomingFile {
  /** The name the user's client gave it; shown back, never used as a path or to decide the type. */
  name?: string;
  bytes: Uint8Array;
}

export interface TurnRequest {
  conversationId: string;
  user: UserRef;
  text: string;
  files: IncomingFile[];
  /**
   * The platform's id of the event behind this turn (Slack event_id, Discord interaction or message id).
   * A second delivery of the same event (a platform retry, a restart mid-delivery) records nothing and runs
   * nothing: the result says `duplicate` and carries the first delivery's turn and job.
   */
  eventKey?: string;
}

/**
 * A request that names its work instead of saying it (an agent's tool call): one invocation, planned by the
 * caller. Its targets are the planner's references (TargetRef), where `upload:N` is the N-th of `files`.
 */
export interface InvocationRequest extends TurnRequest {
  invocation: Invocation;
}

/** A request that may start work, before it is handled: who asks, and from which server or workspace. */
export interface AdmissionRequest {
  user: UserRef;
  /**
   * The platform's id of the community that shares one request allowance (a Discord server, a Slack
   * workspace); none for DMs and the playground.
   */
  workspace?: string;
}

export interface MediaView {
  id: string;
  kind: MediaKind;
  mime: string;
  width: number;
  height: number;
  bytes: number;
  durationSec?: number;
  role: OutputRole | 'upload';
  label?: string;
  /** 1-based number among the conversation's images or videos ("image #2"), for user-facing media. */
  ordinal?: number;
  parentId?: string;
  /** Relative URL of the bytes in the playground API; adapters may map it to their own. */
  url: string;
  /** Safety: the NSFW classifier's verdict; adapters decide posting by it (src/safety/safety-policy.ts). */
  safety?: SafetyVerdict;
  /** For generated pictures: prompt, seed, steps, size, engine and model ("seed 42" under the picture). */
  generation?: GenerationFacts;
}

export interface JobView {
  id: string;
  state: JobState;
  tasks: string[];
  progress?: JobProgress;
  error?: { code: ErrorCode; message: string };
  queuePosition?: number;
  createdAt: string;
  finishedAt?: string;
}

export interface TurnView {
  id: string;
  role: 'user' | 'bot';
  text: string;
  media: MediaView[];
  job?: JobView;
  boxes?: Box[];
  /** "Which one?": numbered options; the adapter offers each as a button that answers with its number. */
  choice?: Choice;
  /** Obvious next steps the adapter may show as buttons: "undo", "redo", "download", "use", … */
  actions?: string[];
  /**
   * How a bot turn reads: `error` (something failed or was refused), `question` (the bot needs an answer),
   * else a normal reply. Optional: adapters fall back to the job state and a trailing "?".
   */
  tone?: 'normal' | 'question' | 'error';
  /**
   * For operator-facing adapters only (MCP: the agent is often the operator): what to pull or set when a task
   * cannot run here. Chat adapters never post it. Only on the immediate answer, never stored.
   */
  operatorHint?: string;
  createdAt: string;
}

export interface ConversationView {
  id: string;
  title: string;
  platform: string;
  /** The platform's own key for it (a Slack thread, a Discord thread or channel), when it has one. */
  externalId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface HistoryView {
  conversation: ConversationView;
  turns: TurnView[];
  currentMediaId?: string;
  canUndo: boolean;
  canRedo: boolean;
}

export interface TurnResult {
  /** The user's turn as recorded (with uploaded media). */
  userTurn: TurnView;
  /** True when this event was handled before (see TurnRequest.eventKey): say nothing more about it. */
  duplicate?: boolean;
  /** The bot's immediate answer (a question, an error, help, an undo result…), if any. */
  botTurn?: TurnView;
  /** The job started for this turn, if any; its outcome arrives as events. */
  job?: JobView;
}

export type BotEvent =
  | { type: 'turn'; conversationId: string; turn: TurnView }
  | { type: 'job.queued'; conversationId: string; job: JobView }
  | { type: 'job.progress'; conversationId: string; job: JobView }
  | { type: 'job.finished'; conversationId: string; job: JobView; turn: TurnView };

export type Unsubscribe = () => void;

export interface BotApi {
  startConversation(input: { user: UserRef; platform?: string; externalId?: string; title?: string }): Promise<ConversationView>;
  listConversations(user: UserRef): Promise<ConversationView[]>;
  history(conversationId: string): Promise<HistoryView>;
  /**
   * The limits every platform shares, checked before a turn that may start work so that a refusal is
   * shown the platform's way and nothing is recorded: throws LimitReachedError (UnfinishedJobsLimitError)
   * when the user already has USER_MAX_QUEUED_JOBS jobs waiting or running, RateLimitedError past
   * USER_RATE_LIMIT_PER_MINUTE or the workspace's WORKSPACE_RATE_LIMIT_PER_MINUTE. An admitted request counts.
   */
  admit(request: AdmissionRequest): Promise<void>;
  /** Never throws for bad input: problems come back as a bot turn that explains them. */
  handleTurn(request: TurnRequest): Promise<TurnResult>;
  /**
   * One invocation without the planner (MCP tool calls): the same recording, limits, safety filter, readiness
   * and queue as a turn. An invocation that breaks the plan contract (unknown task, bad reference or argument)
   * comes back as a bot turn with the problem; nothing is queued.
   */
  invoke(request: InvocationRequest): Promise<TurnResult>;
  /** Button actions on an exact media item: undo/redo/revert, or "use" to continue from an older result. */
  act(input: { conversationId: string; user: UserRef; action: 'undo' | 'redo' | 'revert' | 'use'; mediaId?: string }): Promise<TurnResult>;
  /**
   * The Retry button: the request that made this media, run again on the same input with the same seed,
   * so a generated picture comes back byte for byte on the same engine (a picture of a batch alone, as
   * itself). Bad input (an upload, media of another conversation) comes back as a bot turn. `longer` (the
   * Longer button under a clip): the same with twice the seconds, bounded by what made the clip and the
   * chat's video limits; a clip already that long comes back as a bot turn that says so.
   */
  repeat(input: { conversationId: string; user: UserRef; mediaId: string; longer?: boolean }): Promise<TurnResult>;
  cancelJob(jobId: string, user: UserRef): Promise<JobView>;
  /**
   * Throws the NotFoundError an unknown id gets unless `user` owns the conversation — or the conversation of the
   * job or media — so a stranger who knows or guesses an id learns nothing, not even that it exists.
   */
  authorize(user: UserRef, target: { conversationId: string } | { jobId: string } | { mediaId: string }): Promise<void>;
  /** A relative link to this media that works without the playground's cookie until it expires (MEDIA_LINK_TTL_HOURS). */
  mediaLink(mediaId: string): string;
  /** The media a signed link names, when its signature and expiry are right; NotFoundError otherwise, as for an unknown id. */
  openMediaLink(mediaId: string, link: { expires: string; sig: string }): Promise<{ view: MediaView; path: string }>;
  job(jobId: string): Promise<JobView>;
  media(mediaId: string): Promise<{ view: MediaView; path: string }>;
  /** A generation preview a job.progress event named (`progress.preview.sha256`); NotFoundError for anything else. */
  preview(sha256: string): Promise<{ path: string; mime: string }>;
  /** The conversation a platform knows by this key (a Slack thread, a Discord thread), or null; creates nothing. */
  findConversation(platform: string, externalId: string): Promise<ConversationView | null>;
  /** One conversation by id (NotFoundError when there is none). */
  getConversation(conversationId: string): Promise<ConversationView>;
  subscribe(conversationId: string, listener: (event: BotEvent) => void): Unsubscribe;
  /**
   * Every conversation's events: a chat adapter follows all of its conversations with one listener,
   * including jobs resumed after a restart that no open request is waiting for.
   */
  subscribeAll(listener: (event: BotEvent) => void): Unsubscribe;
  helpText(): string;
  health(): Promise<HealthReport>;
}

export interface HealthReport {
  ok: boolean;
  store: { ok: boolean; kind: string; error?: string };
  queue: { ok: boolean; kind: string; running: number; queued: number };
  ffmpeg: { ok: boolean; version?: string; error?: string };
  /** Each catalog model; one not installed says how an operator gets it (the pull command and files). */
  models: { name: string; installed: boolean; loaded: boolean; tasks: string[]; howToGet?: string }[];
}
