/**
 * Slack's HTTP delivery of events to an app: a POST signed with v0 HMAC-SHA256 over `v0:timestamp:body`,
 * optionally with a wrong secret, a stale timestamp, or Slack's retry headers.
 */
import { createHmac } from 'node:crypto';

export interface DeliveryOptions {
  signingSecret: string;
  timestamp?: number;
  retryNum?: number;
  retryReason?: string;
}

export async function deliver(
  url: string,
  body: Record<string, unknown> | URLSearchParams,
  options: DeliveryOptions,
): Promise<{ status: number; text: string }> {
  const raw = body instanceof URLSearchParams ? body.toString() : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const signature = `v0=${createHmac('sha256', options.signingSecret).update(`v0:${timestamp}:${raw}`).digest('hex')}`;
  const headers: Record<string, string> = {
    'content-type': body instanceof URLSearchParams ? 'application/x-www-form-urlencoded' : 'application/json',
    'x-slack-signature': signature,
    'x-slack-request-timestamp': String(timestamp),
  };
  if (options.retryNum !== undefined) {
    headers['x-slack-retry-num'] = String(options.retryNum);
    headers['x-slack-retry-reason'] = options.retryReason ?? 'http_timeout';
  }
  const response = await fetch(url, { method: 'POST', headers, body: raw });
  return { status: response.status, text: await response.text() };
}
