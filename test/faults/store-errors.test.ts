/**
 * Which store errors mean "the server is away, try again in a moment": the shapes below are the ones
 * postgres-restart.test.ts meets on a real server, plus the ones that must never be mistaken for an outage.
 */
import { Prisma } from '@prisma/client';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/errors.ts';
import { isConnectionError, storeError } from '../../src/store/connection-errors.ts';

const known = (code: string, meta?: Record<string, unknown>) =>
  new Prisma.PrismaClientKnownRequestError(`prisma ${code}`, { code, clientVersion: Prisma.prismaVersion.client, ...(meta ? { meta } : {}) });

function adapterError(cause: Record<string, unknown>): Error {
  const error = new Error('driver adapter error');
  error.name = 'DriverAdapterError';
  return Object.assign(error, { cause });
}

function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

describe('isConnectionError', () => {
  it.each([
    ['P1001 can not reach the server', known('P1001')],
    ['P1017 the server closed the connection', known('P1017')],
    ['P2024 no pool connection in time', known('P2024')],
    ['P2010 around 57P01 admin_shutdown', known('P2010', { driverAdapterError: adapterError({ kind: 'postgres', code: '57P01' }) })],
    ['P2010 around an unreachable server', known('P2010', { driverAdapterError: adapterError({ kind: 'DatabaseNotReachable' }) })],
    ['an adapter error of kind postgres, 57P01', adapterError({ kind: 'postgres', code: '57P01', originalCode: '57P01' })],
    ['an adapter error of kind postgres, 57P03 (recovering)', adapterError({ kind: 'postgres', code: '57P03' })],
    ['an adapter error of kind ConnectionClosed', adapterError({ kind: 'ConnectionClosed' })],
    ['pg: ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['pg: 57P01 on a query', pgError('57P01', 'terminating connection due to administrator command')],
    ['pg: a socket closed under a query', new Error('Connection terminated unexpectedly')],
    ['pg: a client whose connection failed', new Error('Client has encountered a connection error and is not queryable')],
    ['pg: the pool could not connect in time', new Error('timeout exceeded when trying to connect')],
  ])('is an outage: %s', (_name, error) => {
    expect(isConnectionError(error)).toBe(true);
    expect(storeError(error)).toBeInstanceOf(StoreUnavailableError);
    expect((storeError(error) as StoreUnavailableError).cause).toBe(error);
  });

  it.each([
    ['P2002 unique constraint', known('P2002')],
    ['P2025 record not found', known('P2025')],
    ['P2010 around a syntax error', known('P2010', { driverAdapterError: adapterError({ kind: 'postgres', code: '42601' }) })],
    ['an adapter error of kind UniqueConstraintViolation', adapterError({ kind: 'UniqueConstraintViolation' })],
    ['pg: 23505 unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['an error whose message only mentions a connection', new Error('Connection terminated unexpectedly, said the user')],
    ['a plain error', new Error('boom')],
    ['not an error at all', 'Connection terminated'],
  ])('is not an outage: %s', (_name, error) => {
    expect(isConnectionError(error)).toBe(false);
    expect(storeError(error)).toBe(error);
  });

  it('keeps a StoreUnavailableError as it is', () => {
    const error = new StoreUnavailableError(new Error('down'));
    expect(storeError(error)).toBe(error);
    expect(error.message).toBe('The database is not reachable right now; try again in a moment.');
    expect(error.retryable).toBe(true);
  });
});
