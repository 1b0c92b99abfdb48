import type { Prisma, PrismaClient } from '@prisma/client';

/**
 * What a repository runs its queries on: the client itself, or the client of an interactive
 * transaction, so that several repositories can share one transaction.
 */
export type Db = PrismaClient | Prisma.TransactionClient;

/**
 * Prisma's defaults (wait 2 s to start, 5 s to finish) are too tight for PGlite, which runs one
 * transaction at a time: a burst of messages queues behind each other there.
 */
export const TRANSACTION_OPTIONS = { maxWait: 15_000, timeout: 30_000 } as const;

/** Runs fn in a transaction; on the PrismaClient it opens one, inside a transaction it joins it. */
export async function inTransaction<T>(db: Db, fn: (tx: Prisma.TransactionClient) => Promise<T>): Promise<T> {
  return '$transaction' in db ? db.$transaction(fn, TRANSACTION_OPTIONS) : fn(db);
}

/**
 * Takes the conversation's row lock until the transaction ends. Every change to a conversation's
 * counters, cursor or redo stack goes through it, so two messages of the same conversation that arrive
 * together are serialised rather than both reading the same cursor.
 */
export async function lockConversation(tx: Prisma.TransactionClient, conversationId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM conversations WHERE id = ${conversationId} FOR UPDATE`;
  return rows.length === 1;
}
