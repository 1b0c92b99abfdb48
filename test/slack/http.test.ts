/**
 * The Slack app in HTTP mode: Slack signs each request (x-slack-signature over the raw body with the
 * signing secret) and retries when it saw no 2xx within 3 s. Bolt verifies; the adapter deduplicates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { buttonClick, slashCommand } from './payloads.ts';
import { SIGNING_SECRET, buttonsOf, isResultMessage, startSlackRig, type SlackRig } from './slack-rig.ts';

let r: SlackRig;
beforeAll(async () => {
  r = await startSlackRig({ mode: 'http' });
});
afterAll(async () => {
  await r?.close();
});

const signed = { signingSecret: SIGNING_SECRET };

describe('Slack over signed HTTP', () => {
  it("answers Slack's URL verification challenge", async () => {
    const answer = await FakeSlack.deliver(r.eventsUrl, { type: 'url_verification', token: 't', challenge: 'abc123' }, signed);
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('abc123');
  });

  it('runs one job for an event delivered twice (X-Slack-Retry-Num, same event_id) and uploads into the thread', async () => {
    const file = r.fake.addFile(await solidImage(40, 30, '#cc3333'), 'red.png');
    const ts = r.fake.nextTs();
    const body = r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C1', files: [file] });
    const from = r.events.events.length;
    const dropped = r.adapter.duplicatesDropped;
    expect((await FakeSlack.deliver(r.eventsUrl, body, signed)).status).toBe(200);
    expect((await FakeSlack.deliver(r.eventsUrl, body, { ...signed, retryNum: 1, retryReason: 'http_timeout' })).status).toBe(200);
    const finished = await r.events.next('job.finished', from);
    expect(finished.job.state).toBe('succeeded');
    await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    expect(r.adapter.duplicatesDropped - dropped).toBe(1);
    expect(r.events.events.slice(from).filter((e) => e.type === 'job.queued')).toHaveLength(1);
    expect(r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts)).toHaveLength(1);
  });

  it('refuses a bad signature and a stale timestamp with 401 and starts nothing', async () => {
    const calls = r.fake.calls.length;
    const from = r.events.events.length;
    const body = r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> help', ts: r.fake.nextTs(), channel: 'C2' });
    expect((await FakeSlack.deliver(r.eventsUrl, body, { signingSecret: 'not-the-real-secret-000000' })).status).toBe(401);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await FakeSlack.deliver(r.eventsUrl, body, { ...signed, timestamp: sixMinutesAgo })).status).toBe(401);
    // Then the same event, correctly signed, is handled: so the refusals were not a dedupe.
    expect((await FakeSlack.deliver(r.eventsUrl, body, signed)).status).toBe(200);
    const answer = await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C2');
    expect(r.fake.calls.slice(calls).filter((c) => c.method === 'chat.postMessage' && c.args.channel === 'C2')).toEqual([answer]);
    expect(r.events.events.slice(from).filter((e) => e.type === 'turn' && e.turn.role === 'user')).toHaveLength(1);
  });

  it('takes /vitron and button clicks as signed form posts, acking at once', async () => {
    const command = await FakeSlack.deliver(r.eventsUrl, new URLSearchParams(slashCommand(r.fake, 'help', { channel: 'C3' })), signed);
    expect(command.status).toBe(200);
    expect(JSON.parse(command.text)).toMatchObject({ response_type: 'ephemeral' });

    const file = r.fake.addFile(await solidImage(16, 16, '#00ff00'), 'g.png');
    const ts = r.fake.nextTs();
    await FakeSlack.deliver(
      r.eventsUrl,
      r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C3', files: [file] }),
      signed,
    );
    const result = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    const redo = buttonsOf(result.args).find((b) => b.action_id === 'vitron:redo')!;
    const resultTs = r.fake
      .thread('C3', ts)
      .filter((m) => m.blocks)
      .at(-1)!.ts;
    const click = buttonClick(r.fake, redo, { channel: 'C3', messageTs: resultTs, threadTs: ts });
    const inThread = r.fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts).length;
    const clicked = await FakeSlack.deliver(r.eventsUrl, new URLSearchParams({ payload: JSON.stringify(click) }), signed);
    expect(clicked.status).toBe(200);
    // "Redo" continues from this exact result: the core's answer lands in the thread.
    const calls = await r.fake.waitForCalls('chat.postMessage', inThread + 1, (a) => a.thread_ts === ts);
    expect(String(calls.at(-1)!.args.text).length).toBeGreaterThan(0);
  });
});
