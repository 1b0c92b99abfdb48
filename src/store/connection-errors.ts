import { Prisma, PrismaClient } from '@prisma/client';
import { StoreUnavailableError } from '../errors.ts';

/**
 * Network faults and "the server is shutting down / starting up / full": the store is away for a while,
 * and the same request will work again once it is back. Constraint violations and other SQL errors are not.
 *
 * Each layer reports a lost server in its own words, so each is recognised by its own code. Seen with a
 * PostgreSQL stopped (fast and immediate) and crashed under a running client (test/faults/postgres-restart):
 *   - P1001 (Prisma, from adapter-pg's DatabaseNotReachable = ECONNREFUSED): every query while it is down;
 *   - SQLSTATE 57P01 admin_shutdown: a query running when a fast stop began, as a DriverAdapterError of
 *     kind 'postgres' (model queries) or inside P2010 (raw queries);
 *   - SQLSTATE 57P03 cannot_connect_now: connecting while it recovers from a crash;
 *   - pg's uncoded errors below: a query cut off by an immediate stop or a crash.
 * The rest are the same faults reached another way: socket errors of pg itself (migrations use the pool
 * directly), adapter-pg's other kinds and the Prisma codes they become (P1017 connection closed = ECONNRESET,
 * P1008 = ETIMEDOUT, P2037 = 53300 too many connections) and P2024 (no pool connection in time).
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);
const SQLSTATES = new Set(['57P01', '57P03', '53300']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const PRISMA_CODES = new Set(['P1001', 'P1008', 'P1017', 'P2024', 'P2037']);

/**
 * pg raises these without any code: a query on a socket that closed under it ("Connection terminated
 * unexpectedly"), a query on a pooled client whose connection already failed, and the pool's connect
 * timeout. The text is pg's fixed wording; there is nothing else to go by.
 */
const PG_UNCODED =
  /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;

function isConnectionCode(code: unknown): boolean {
  return typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code));
}

export function isConnectionError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (PRISMA_CODES.has(error.code)) return true;
    // A raw query's failure: the driver's own error is kept in meta.
    return error.code === 'P2010' && isConnectionError((error.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  if (!(error instanceof Error)) return false;
  if (error.name === 'DriverAdapterError') {
    const cause = (error as { cause?: { kind?: unknown; code?: unknown } }).cause;
    return (typeof cause?.kind === 'string' && ADAPTER_KINDS.has(cause.kind)) || (cause?.kind === 'postgres' && isConnectionCode(cause.code));
  }
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) return isConnectionCode(code);
  return PG_UNCODED.test(error.message);
}

/** The error a caller should see: a StoreUnavailableError for a lost server, anything else unchanged. */
export function storeError(error: unknown): unknown {
  if (error instanceof StoreUnavailableError) return error;
  return isConnectionError(error) ? new StoreUnavailableError(error) : error;
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw storeError(error);
  }
}

/**
 * The client the app uses on PostgreSQL: any call that fails because the server is gone throws a
 * StoreUnavailableError (its cause the error Prisma gave), so whoever called a repository can say "try
 * again in a moment", and the web adapter answers 503 rather than 500. Prisma reports such faults in two
 * places: a query's error comes out of the query itself (caught by a query extension, which also runs
 * for the queries of an interactive transaction), while opening, committing or rolling back a
 * transaction fails in `$transaction` (caught by wrapping it).
 */
export function withStoreOutages(adapter: NonNullable<Prisma.PrismaClientOptions['adapter']>): PrismaClient {
  const extended = new PrismaClient({ adapter }).$extends({
    name: 'store-outages',
    query: {
      $allOperations: ({ args, query }) => guard(() => query(args)),
    },
  });
  // A query extension changes no method's signature; the cast only drops the extension's type wrapper.
  const client = extended as unknown as PrismaClient;
  const transaction = client.$transaction.bind(client) as (...args: unknown[]) => Promise<unknown>;
  const guardedTransaction = (...args: unknown[]) => guard(() => transaction(...args));
  return new Proxy(client, {
    get: (target, key, receiver) => (key === '$transaction' ? guardedTransaction : Reflect.get(target, key, receiver)),
  });
}
