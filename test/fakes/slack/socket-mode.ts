/**
 * The fake's Socket Mode endpoint (reached through the URL apps.connections.open hands out): says hello to
 * each connection, sends envelopes as Slack does and hands back the app's ack payload for each.
 */
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { FakeSlack } from './fake-slack.ts';

export type EnvelopeType = 'events_api' | 'slash_commands' | 'interactive';

export function acceptSocket(fake: FakeSlack, ws: WebSocket): void {
  fake.sockets.push(ws);
  ws.on('message', (data) => {
    let message: { envelope_id?: string; payload?: unknown };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return;
    }
    if (message.envelope_id) {
      fake.acks.get(message.envelope_id)?.(message.payload ?? {});
      fake.acks.delete(message.envelope_id);
    }
  });
  ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0TEST' }, debug_info: { host: 'fake-slack' } }));
  for (const waiter of fake.socketWaiters.splice(0)) waiter(ws);
}

export async function sendEnvelope(
  fake: FakeSlack,
  type: EnvelopeType,
  payload: unknown,
  options: { retryAttempt?: number; retryReason?: string; envelopeId?: string },
): Promise<unknown> {
  const ws = await fake.connected();
  const envelopeId = options.envelopeId ?? randomUUID();
  const acked = new Promise<unknown>((resolve) => fake.acks.set(envelopeId, resolve));
  ws.send(
    JSON.stringify({
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: type !== 'events_api',
      ...(type === 'events_api' ? { retry_attempt: options.retryAttempt ?? 0, retry_reason: options.retryReason ?? '' } : {}),
    }),
  );
  return acked;
}
