import type { BotApi } from '../../src/app/bot-api.ts';
import { BadInputError } from '../../src/errors.ts';
import { parseThreadKey, threadKey, type SlackThread } from './thread-key.ts';

/** Which Slack thread each conversation lives in, and which threads are the bot's. */
export class SlackThreads {
  private readonly byConversation = new Map<string, SlackThread | null>();
  /** Threads this process has seen (follow-ups without a mention); see isKnown for after a restart. */
  private readonly known = new Set<string>();

  constructor(private readonly bot: BotApi) {}

  remember(conversationId: string, thread: SlackThread): void {
    this.known.add(threadKey(thread));
    this.byConversation.set(conversationId, thread);
  }

  /** The thread of a conversation, or undefined for a conversation of another platform (or none). */
  async of(conversationId: string): Promise<SlackThread | undefined> {
    const cached = this.byConversation.get(conversationId);
    if (cached !== undefined) return cached ?? undefined;
    let thread: SlackThread | undefined;
    try {
      const conversation = await this.bot.getConversation(conversationId);
      thread = conversation.platform === 'slack' ? parseThreadKey(conversation.externalId) : undefined;
    } catch (error) {
      if (!(error instanceof BadInputError)) throw error;
    }
    this.byConversation.set(conversationId, thread ?? null);
    return thread;
  }

  /**
   * A thread reply without a mention belongs to the bot when the thread is a conversation: seen threads
   * are in memory, and after a restart the store knows them (whoever replies).
   */
  async isKnown(thread: SlackThread): Promise<boolean> {
    const key = threadKey(thread);
    if (this.known.has(key)) return true;
    if ((await this.bot.findConversation('slack', key)) === null) return false;
    this.known.add(key);
    return true;
  }
}
