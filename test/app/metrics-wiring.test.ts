import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebApp } from '../../adapters/web/server.ts';
import { metricsRoute } from '../../src/metrics/metrics-route.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';

let harness: Awaited<ReturnType<typeof startTestBot>>;
beforeAll(async () => {
  harness = await startTestBot();
});
afterAll(async () => {
  await harness?.cleanup();
});

describe('metrics of the running bot', () => {
  it('counts a finished job per task and serves it at the playground /metrics', async () => {
    const { bot, metrics } = harness.running;
    const user = testUser();
    const conversation = await bot.startConversation({ user });
    const events = new EventRecorder();
    bot.subscribe(conversation.id, events.listener);
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#468' } })
      .png()
      .toBuffer();
    const turn = await bot.handleTurn({ conversationId: conversation.id, user, text: 'flip it horizontally', files: [{ bytes: png }] });
    await events.finished(turn);

    const { app } = await buildWebApp({ bot, settings: harness.settings, metrics: metricsRoute(metrics) });
    try {
      const response = await app.inject({ method: 'GET', url: '/metrics' });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      expect(response.body).toMatch(/vitron_job_outcomes_total\{task="transform",outcome="succeeded"\} 1\b/);
      expect(response.body).toMatch(/vitron_job_duration_seconds_count\{task="transform"\} 1\b/);
    } finally {
      await app.close();
    }
  });
});
