import { Prisma } from '@prisma/client';

/**
 * A unique constraint was hit. adapter-pg surfaces it as Prisma's P2002; pglite-prisma-adapter 0.6.1
 * (built on an older adapter protocol) lets PostgreSQL's own error through as a DriverAdapterError
 * whose cause carries SQLSTATE 23505. Both mean the same.
 */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2002';
  if (!(error instanceof Error) || error.name !== 'DriverAdapterError') return false;
  const cause = (error as { cause?: { kind?: unknown; code?: unknown } }).cause;
  return cause?.kind === 'UniqueConstraintViolation' || (cause?.kind === 'postgres' && cause.code === '23505');
}
