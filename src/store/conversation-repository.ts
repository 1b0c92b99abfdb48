import { NotFoundError } from '../errors.ts';
import type { MediaKind } from '../core/types.ts';
import type { Db } from './client.ts';
import { toConversation } from './mappers.ts';
import type { Conversation, Platform } from './types.ts';
import { isUniqueViolation } from './driver-errors.ts';

export interface NewConversation {
  platform: Platform;
  externalId?: string | null;
  ownerId?: string | null;
  title?: string | null;
}

export class ConversationRepository {
  constructor(private readonly db: Db) {}

  /** Creates it, or returns the existing one when a conversation with this platform id already exists. */
  async create(input: NewConversation): Promise<{ conversation: Conversation; created: boolean }> {
    if (input.externalId != null) {
      const existing = await this.findByExternalId(input.platform, input.externalId);
      if (existing !== null) return { conversation: existing, created: false };
    }
    try {
      const row = await this.db.conversation.create({
        data: { platform: input.platform, externalId: input.externalId ?? null, ownerId: input.ownerId ?? null, title: input.title ?? null },
      });
      return { conversation: toConversation(row), created: true };
    } catch (error) {
      // The same thread's first two messages raced; the other one created it.
      if (input.externalId != null && isUniqueViolation(error)) {
        const existing = await this.findByExternalId(input.platform, input.externalId);
        if (existing !== null) return { conversation: existing, created: false };
      }
      throw error;
    }
  }

  async find(id: string): Promise<Conversation | null> {
    const row = await this.db.conversation.findUnique({ where: { id } });
    return row === null ? null : toConversation(row);
  }

  async get(id: string): Promise<Conversation> {
    const conversation = await this.find(id);
    if (conversation === null) throw new NotFoundError(`Conversation ${id}`);
    return conversation;
  }

  async findByExternalId(platform: Platform, externalId: string): Promise<Conversation | null> {
    const row = await this.db.conversation.findUnique({ where: { platform_externalId: { platform, externalId } } });
    return row === null ? null : toConversation(row);
  }

  /** Most recently active first. */
  async listForOwner(ownerId: string, limit = 50): Promise<Conversation[]> {
    const rows = await this.db.conversation.findMany({ where: { ownerId }, orderBy: [{ updatedAt: 'desc' }, { id: 'desc' }], take: limit });
    return rows.map(toConversation);
  }

  async setTitle(id: string, title: string | null): Promise<Conversation> {
    return toConversation(await this.db.conversation.update({ where: { id }, data: { title } }));
  }

  /** Call with the row locked (lockConversation) so that the cursor and the stack change together. */
  async setCursor(id: string, currentMediaId: string | null, redoStack: readonly string[]): Promise<Conversation> {
    const row = await this.db.conversation.update({ where: { id }, data: { currentMediaId, redoStack: [...redoStack] } });
    return toConversation(row);
  }

  /**
   * The next turn number. Atomic on its own; run it in the transaction that inserts the turn so that a
   * failed insert does not leave a gap (the UPDATE's row lock is held until that transaction ends).
   */
  async nextTurnSeq(id: string): Promise<number> {
    const row = await this.db.conversation.update({ where: { id }, data: { turnCount: { increment: 1 } }, select: { turnCount: true } });
    return row.turnCount;
  }

  /** The next "image #N" / "video #N" of the conversation; same transaction rule as nextTurnSeq. */
  async nextOrdinal(id: string, kind: MediaKind): Promise<number> {
    if (kind === 'image') {
      const row = await this.db.conversation.update({ where: { id }, data: { imageCount: { increment: 1 } }, select: { imageCount: true } });
      return row.imageCount;
    }
    const row = await this.db.conversation.update({ where: { id }, data: { videoCount: { increment: 1 } }, select: { videoCount: true } });
    return row.videoCount;
  }
}
