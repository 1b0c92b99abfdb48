import { Prisma, PrismaClient } from '@prisma/client';
import { StoreUnavailableError } from '../errors.ts';

/**
 * Network faults and "the server is shutting down / starting up / full": the store is away for a while,
 * and the same request will work again once it is back. Constraint violations and other SQL errors are not.
 *
 * Each layer reports a lost server in its own words, so each is recognised by its own code:
 *   - node's socket errors (pg, on connect): ECONNREFUSED, ECONNRESET, …
 *   - PostgreSQL's SQLSTATE (pg, while a query runs): class 08 (connection exception), 57P01 admin_shutdown
 *     (a fast stop), 57P02 crash_shutdown, 57P03 cannot_connect_now (starting up, recovering), 53300 too many connections;
 *   - adapter-pg's DriverAdapterError, whose `cause.kind` names the fault (or carries the SQLSTATE as `cause.code`);
 *   - Prisma's own codes for the same faults, should one reach us: P1001 can't reach, P1002/P1008 timed out,
 *     P1017 server closed the connection, P2024 no pool connection in time, P2037 too many connections, and
 *     P2010 (a raw query failed) around one of the above.
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN']);
const SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
const ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
const PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037']);

/**
 * pg raises these without any code: a query on a socket that closed under it ("Connection terminated
 * unexpectedly"), a query on a pooled client that already saw its connection fail, and the pool's own
 * connect timeout. Their text is pg's fixed wording; there is nothing else to go by.
 */
const PG_UNCODED = /^(Connection terminated( unexpectedly| due to connection timeout)?|Client has encountered a connection error and is not queryable|timeout exceeded when trying to connect)$/;

function isConnectionCode(code: unknown): boolean {
  return typeof code === 'string' && (SOCKET_CODES.has(code) || SQLSTATES.has(code) || code.startsWith('08'));
}

export function isConnectionError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (PRISMA_CODES.has(error.code)) return true;
    return error.code === 'P2010' && isConnectionError((error.meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  if (error instanceof Prisma.PrismaClientInitializationError) return error.errorCode !== undefined && PRISMA_CODES.has(error.errorCode);
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
