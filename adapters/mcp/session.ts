import fs from 'node:fs/promises';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from 'pino';
import type { BotApi, BotEvent, JobView, MediaView, TurnView, UserRef } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { isSessionTask } from '../../src/core/tasks.ts';
import { BadInputError, ContentBlockedError, NotFoundError } from '../../src/errors.ts';
import { mediaGate, type MediaGate } from '../shared/safety-gate.ts';
import { resolveMediaInputs } from './media-input.ts';
import type { MediaInput, ToolDefinition } from './tool-catalog.ts';
import { resultOf, toolError } from './tool-results.ts';

export type ToolCallExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

export interface McpSessionOptions {
  bot: BotApi;
  settings: Pick<Settings, 'SAFETY' | 'MCP_NSFW' | 'MCP_MEDIA_HOSTS' | 'MAX_UPLOAD_BYTES'>;
  logger: Pick<Logger, 'warn' | 'info' | 'error'>;
  /** Who calls: one user per way in (stdio, or the HTTP token), so limits and job ownership apply as in chat. */
  user: UserRef;
  /** The conversation's key on platform "mcp": the MCP session id. */
  key: string;
  /** Plain-http media hosts (the tests' local servers). */
  insecureHosts?: readonly string[];
  fetch?: typeof fetch;
}

type Finished = Extract<BotEvent, { type: 'job.finished' }>;

/**
 * One MCP session is one conversation: results of earlier calls are its media, so ids, "current", "undo" and
 * lineage work across calls as they do in chat. The conversation starts with the first call that needs it.
 */
export class McpSession {
  private conversation: Promise<string> | undefined;
  private readonly gate: (conversationId: string) => MediaGate;

  constructor(private readonly options: McpSessionOptions) {
    const { settings, logger } = options;
    this.gate = (conversationId) =>
      mediaGate({
        settings,
        logger,
        platform: 'mcp',
        conversationId,
        place: 'mcp',
        nsfwAllowed: settings.MCP_NSFW,
        nsfwPlaces: 'chats that allow it (to MCP clients only where the operator sets MCP_NSFW=true)',
      });
  }

  conversationId(): Promise<string> {
    this.conversation ??= (async () => {
      const { bot, user, key } = this.options;
      const found = await bot.findConversation('mcp', key);
      return (found ?? (await bot.startConversation({ user, platform: 'mcp', externalId: key, title: 'MCP session' }))).id;
    })();
    // A failed start (a database restart) is tried again by the next call instead of being remembered.
    this.conversation.catch(() => {
      this.conversation = undefined;
    });
    return this.conversation;
  }

  /** Runs one tool call to its end: bad input, refusals and failed jobs come back as tool errors with the bot's words. */
  async call(tool: ToolDefinition, args: Record<string, unknown>, extra: ToolCallExtra): Promise<CallToolResult> {
    const { bot, user, settings } = this.options;
    const conversationId = await this.conversationId();
    let invocation: { targets: string[]; files: { name?: string; bytes: Uint8Array }[] };
    try {
      await bot.admit({ user });
      const inputs = tool.mediaFields.map((field) => (args[field] ?? (field === 'media' ? 'current' : undefined)) as MediaInput | undefined);
      invocation = await resolveMediaInputs(inputs, {
        bot,
        conversationId,
        allowedHosts: settings.MCP_MEDIA_HOSTS ?? [],
        maxBytes: settings.MAX_UPLOAD_BYTES,
        ...(this.options.insecureHosts ? { insecureHosts: this.options.insecureHosts } : {}),
        ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
      });
    } catch (error) {
      if (error instanceof BadInputError) return toolError(error.message);
      throw error;
    }
    const taskArgs = Object.fromEntries(Object.entries(args).filter(([name, value]) => !tool.mediaFields.includes(name as 'media') && value !== undefined));

    const events = new JobEvents();
    const unsubscribe = bot.subscribe(conversationId, events.listener);
    try {
      const started = await bot.invoke({
        conversationId,
        user,
        text: spokenAs(tool.name, taskArgs),
        files: invocation.files,
        invocation: { task: tool.task, targets: invocation.targets, args: taskArgs },
      });
      const gate = this.gate(conversationId);
      if (!started.job) {
        const turn = started.botTurn ?? { ...started.userTurn, text: 'Nothing to do.' };
        return resultOf(isSessionTask(tool.task) ? await this.withCurrent(turn) : turn, undefined, undefined, { bot, gate });
      }
      const job = started.job;
      const finished = await events.follow(
        job,
        extra,
        () => void bot.cancelJob(job.id, user).catch((error) => this.options.logger.warn({ err: error, jobId: job.id }, 'mcp: cancel failed')),
      );
      const current = finished.turn.media.find((m) => m.ordinal !== undefined)?.id;
      return resultOf(finished.turn, finished.job, current, { bot, gate });
    } finally {
      unsubscribe();
    }
  }

  /** The session's pictures and videos (results and uploads), for resources/list. */
  async media(): Promise<MediaView[]> {
    if (!this.conversation) return [];
    const history = await this.options.bot.history(await this.conversationId());
    return history.turns.flatMap((turn) => turn.media);
  }

  /** One media item of this session with its bytes; media of other sessions is not found, as if it did not exist. */
  async read(id: string): Promise<{ view: MediaView; bytes: Buffer }> {
    const view = (await this.media()).find((m) => m.id === id);
    if (!view) throw new NotFoundError(`Media ${id.slice(0, 80)} of this session`);
    const withheld = this.gate(await this.conversationId())(view);
    if (withheld !== undefined) throw new ContentBlockedError(withheld, { mediaId: id });
    const { path } = await this.options.bot.media(id);
    return { view, bytes: await fs.readFile(path) };
  }

  /** undo/redo/revert answer in words; the agent also gets the media that is now current. */
  private async withCurrent(turn: TurnView): Promise<TurnView> {
    const history = await this.options.bot.history(await this.conversationId());
    const current = history.turns.flatMap((t) => t.media).find((m) => m.id === history.currentMediaId);
    return current ? { ...turn, media: [current] } : turn;
  }
}

/** The tool call as the words the history shows for it ("cutout phrase=\"the dog\""). */
function spokenAs(tool: string, args: Record<string, unknown>): string {
  const parts = Object.entries(args).map(([name, value]) => `${name}=${JSON.stringify(value)}`);
  return [tool, ...parts].join(' ').slice(0, 2000);
}

/**
 * A conversation's events, taken from before the job is submitted so that none is missed, then followed for one
 * job: progress goes to the client as MCP progress notifications (when it asked with a progress token),
 * cancellation from the client cancels the job, and the job's end ends the call.
 */
class JobEvents {
  private readonly seen: BotEvent[] = [];
  private onEvent: ((event: BotEvent) => void) | undefined;

  listener = (event: BotEvent): void => {
    if (this.onEvent) this.onEvent(event);
    else this.seen.push(event);
  };

  follow(job: JobView, extra: ToolCallExtra, cancel: () => void): Promise<Finished> {
    const token = extra._meta?.progressToken;
    let last = -1;
    const report = (view: JobView) => {
      if (token === undefined) return;
      const progress = view.state === 'queued' ? 0 : Math.max(1, Math.round((view.progress?.fraction ?? 0) * 100));
      // Progress must only go up (the MCP rule); repeats and steps back are dropped.
      if (progress <= last) return;
      last = progress;
      const message = view.state === 'queued' ? `queued${view.queuePosition ? ` (position ${view.queuePosition})` : ''}` : view.progress?.note;
      void extra
        .sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100, ...(message ? { message } : {}) } })
        .catch(() => undefined);
    };
    return new Promise((resolve) => {
      const handle = (event: BotEvent) => {
        if (!('job' in event) || event.job.id !== job.id) return;
        if (event.type === 'job.finished') resolve(event);
        else report(event.job);
      };
      report(job);
      for (const event of this.seen.splice(0)) handle(event);
      this.onEvent = handle;
      if (extra.signal.aborted) cancel();
      else extra.signal.addEventListener('abort', cancel, { once: true });
    });
  }
}

export { toolError };
