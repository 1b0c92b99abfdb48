import { NotFoundError } from '../errors.ts';
import type { Prisma } from '@prisma/client';
import { inTransaction, type Db } from './client.ts';
import { ConversationRepository } from './conversation-repository.ts';
import { toMedia } from './mappers.ts';
import { isUserFacing, type NewMedia, type StoredMedia } from './types.ts';

export class MediaRepository {
  constructor(private readonly db: Db) {}

  /** User-facing media get the conversation's next ordinal for their kind in the same transaction. */
  async add(input: NewMedia): Promise<StoredMedia> {
    return inTransaction(this.db, async (tx) => {
      const ordinal = isUserFacing(input.role) ? await new ConversationRepository(tx).nextOrdinal(input.conversationId, input.kind) : null;
      const row = await tx.media.create({
        data: {
          conversationId: input.conversationId,
          turnId: input.turnId ?? null,
          sha256: input.sha256,
          kind: input.kind,
          mime: input.mime,
          bytes: BigInt(input.bytes),
          width: input.width,
          height: input.height,
          durationSec: input.durationSec ?? null,
          fps: input.fps ?? null,
          frameCount: input.frameCount ?? null,
          hasAudio: input.hasAudio ?? null,
          role: input.role,
          label: input.label ?? null,
          parentId: input.parentId ?? null,
          jobId: input.jobId ?? null,
          invocation: (input.invocation ?? undefined) as Prisma.InputJsonValue | undefined,
          generation: (input.generation ?? undefined) as Prisma.InputJsonValue | undefined,
          safety: (input.safety ?? undefined) as Prisma.InputJsonValue | undefined,
          ordinal,
        },
      });
      return toMedia(row);
    });
  }

  async find(id: string): Promise<StoredMedia | null> {
    const row = await this.db.media.findUnique({ where: { id } });
    return row === null ? null : toMedia(row);
  }

  async get(id: string): Promise<StoredMedia> {
    const media = await this.find(id);
    if (media === null) throw new NotFoundError(`Media ${id}`);
    return media;
  }

  /** Every media item of the conversation, masks included, in the order they were added. */
  async listForConversation(conversationId: string): Promise<StoredMedia[]> {
    const rows = await this.db.media.findMany({ where: { conversationId }, orderBy: { position: 'asc' } });
    return rows.map(toMedia);
  }

  async listForJob(jobId: string): Promise<StoredMedia[]> {
    const rows = await this.db.media.findMany({ where: { jobId }, orderBy: { position: 'asc' } });
    return rows.map(toMedia);
  }
}
