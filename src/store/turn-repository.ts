import { NotFoundError } from '../errors.ts';
import { inTransaction, type Db } from './client.ts';
import { ConversationRepository } from './conversation-repository.ts';
import { toTurn } from './mappers.ts';
import type { Turn, TurnAuthor } from './types.ts';

export interface NewTurn {
  conversationId: string;
  author: TurnAuthor;
  userId?: string | null;
  text: string;
  eventKey?: string | null;
}

export class TurnRepository {
  constructor(private readonly db: Db) {}

  async add(input: NewTurn): Promise<Turn> {
    return inTransaction(this.db, async (tx) => {
      const seq = await new ConversationRepository(tx).nextTurnSeq(input.conversationId);
      const row = await tx.turn.create({
        data: {
          conversationId: input.conversationId,
          author: input.author,
          userId: input.userId ?? null,
          text: input.text,
          seq,
          eventKey: input.eventKey ?? null,
        },
      });
      return toTurn(row);
    });
  }

  /** The user's turn recorded for this platform event, if that event was handled already. */
  async findByEventKey(conversationId: string, eventKey: string): Promise<Turn | null> {
    const row = await this.db.turn.findUnique({ where: { conversationId_eventKey: { conversationId, eventKey } } });
    return row === null ? null : toTurn(row);
  }

  async get(id: string): Promise<Turn> {
    const row = await this.db.turn.findUnique({ where: { id } });
    if (row === null) throw new NotFoundError(`Turn ${id}`);
    return toTurn(row);
  }

  /** A bot turn posted as "working on it…" gets its final text when the job ends. */
  async setText(id: string, text: string): Promise<Turn> {
    return toTurn(await this.db.turn.update({ where: { id }, data: { text } }));
  }

  /** In order; `limit` keeps the latest ones. */
  async list(conversationId: string, limit?: number): Promise<Turn[]> {
    const rows = await this.db.turn.findMany({ where: { conversationId }, orderBy: { seq: 'desc' }, ...(limit === undefined ? {} : { take: limit }) });
    return rows.reverse().map(toTurn);
  }
}
