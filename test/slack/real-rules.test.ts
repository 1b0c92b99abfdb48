/**
 * Rules of the real Slack that the fake now models, each with the adapter behaviour it needs (issue 19):
 * an assistant status cleared by the app's own replies and after two minutes, no posting where the bot is
 * not a member, Slack Connect files only files.info resolves, and a section's 3000-character limit.
 */
import type { WebClient } from '@slack/web-api';
import { WebClient as SlackClient } from '@slack/web-api';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotApi } from '../../src/app/bot-api.ts';
import { progressBlocks, resultBlocks, SECTION_TEXT_MAX } from '../../adapters/slack/blocks.ts';
import { ThreadDelivery } from '../../adapters/slack/delivery.ts';
import { SlackThreads } from '../../adapters/slack/threads.ts';
import { WORKING_STATUS } from '../../adapters/slack/turns.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { messageShortcut } from './payloads.ts';
import { startSlackRig, type SlackRig } from './slack-rig.ts';

let r: SlackRig;
beforeAll(async () => {
  r = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await r?.close();
});

describe('Slack: the assistant status while a job runs', () => {
  it('is set again after the progress message, whose post cleared it', async () => {
    const threadTs = r.fake.nextTs();
    const file = r.fake.addFile(await solidImage(24, 24, '#3366cc'), 'blue.png');
    const from = r.events.events.length;
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({
        type: 'message',
        channel_type: 'im',
        channel: 'D7',
        user: 'U1',
        text: 'make it black and white',
        ts: r.fake.nextTs(),
        thread_ts: threadTs,
        files: [file],
      }),
    );
    await r.events.next('job.finished', from);
    await r.fake.waitForCall('assistant.threads.setStatus', (a) => a.thread_ts === threadTs && a.status === '');
    const changes = r.fake.statusChanges.filter((c) => c.threadTs === threadTs).map(({ status, by }) => ({ status, by }));
    // The first reply in the thread is the progress message: Slack clears the status, the app sets it again.
    const firstReply = changes.findIndex((c) => c.by === 'reply');
    expect(firstReply).toBeGreaterThan(0);
    expect(changes[firstReply + 1]).toEqual({ status: WORKING_STATUS, by: 'app' });
    expect(r.fake.assistantStatus('D7', threadTs)).toBe('');
  });

  it('is set again before Slack drops it after two minutes, until it is cleared', async () => {
    const calls: { status: string }[] = [];
    const client = { assistant: { threads: { setStatus: async (args: { status: string }) => calls.push(args) } } } as unknown as WebClient;
    const bot = {} as BotApi;
    const delivery = new ThreadDelivery(bot, client, new SlackThreads(bot), pino({ level: 'silent' }), {
      uploadAttempts: 1,
      uploadRetryDelayMs: 1,
      safety: { SAFETY: 'off', SLACK_NSFW_CHANNELS: [] } as never,
      previewIntervalMs: 1000,
      statusRefreshMs: 20,
    });
    const thread = { teamId: 'T0TEST', channel: 'D8', threadTs: '1.2' };
    await delivery.showStatus('c1', thread, WORKING_STATUS);
    await new Promise((resolve) => setTimeout(resolve, 110));
    expect(calls.filter((c) => c.status === WORKING_STATUS).length).toBeGreaterThanOrEqual(3);
    await delivery.clearStatus('c1', thread);
    const after = calls.length;
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(calls.length).toBe(after);
    await delivery.settled();
  });
});

describe('Slack: "Edit with vitron" in a conversation the bot is not in', () => {
  it('answers privately through the response_url how to fix it, and starts nothing', async () => {
    r.fake.notMemberOf.add('C13');
    const from = r.events.events.length;
    const file = r.fake.addFile(await solidImage(20, 10, '#aa00aa'), 'purple.png');
    const withFile = r.fake.nextTs();
    expect(await r.fake.sendEnvelope('interactive', messageShortcut(r.fake, { ts: withFile, files: [file] }, { channel: 'C13' }))).toEqual({});
    const hint = await r.fake.waitForCall('response_url', (a) => /\/invite @vitron/.test(String(a.text)));
    expect(hint.args).toMatchObject({ response_type: 'ephemeral' });

    const withoutFile = r.fake.nextTs();
    await r.fake.sendEnvelope('interactive', messageShortcut(r.fake, { ts: withoutFile }, { channel: 'C13' }));
    const noFile = await r.fake.waitForCall('response_url', (a) => /no image or video attached/.test(String(a.text)));
    expect(noFile.args).toMatchObject({ response_type: 'ephemeral' });

    expect(r.fake.messages.filter((m) => m.channel === 'C13')).toHaveLength(0);
    expect(r.events.events.slice(from).filter((e) => e.type === 'job.queued')).toHaveLength(0);
  });
});

describe('Slack: a file from a Slack Connect channel', () => {
  it('arrives without links (file_access: check_file_info) and is fetched through files.info', async () => {
    const file = r.fake.addConnectFile(await solidImage(16, 8, '#cc3300'), 'shared.png');
    const from = r.events.events.length;
    const ts = r.fake.nextTs();
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C14', files: [file] }),
    );
    expect((await r.events.next('job.finished', from)).job.state).toBe('succeeded');
    expect(r.fake.callsOf('files.info').some((c) => c.args.file === file.id)).toBe(true);
    await r.fake.waitForCall('files.completeUploadExternal', (a) => a.thread_ts === ts);
  });
});

describe("Slack: a section's 3000 characters", () => {
  const post = (text: string, blocks: unknown[]) =>
    new SlackClient(r.fake.botToken, { slackApiUrl: r.fake.apiUrl, retryConfig: { retries: 0 } }).chat.postMessage({
      channel: 'C15',
      text,
      blocks: blocks as never,
    });

  it('the fake refuses a longer section as Slack does, with invalid_blocks', async () => {
    await expect(post('x', [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }])).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
  });

  it('a long answer under a result goes out whole, split over sections, with its buttons', async () => {
    const words = Array.from({ length: 1500 }, (_, i) => `word${i}`);
    const text = `${words.join(' ')} 😀`;
    const result = { id: 'm1', kind: 'image', role: 'result' } as never;
    const message = resultBlocks(text, result, 'c1', 'j1');
    const posted = await post(message.text, message.blocks);
    expect(posted.ok).toBe(true);
    const stored = r.fake.messages.find((m) => m.ts === posted.ts)!;
    const shown = (stored.blocks as { type: string; text?: { text: string } }[]).filter((b) => b.type === 'section').map((b) => b.text!.text);
    expect(shown.length).toBeGreaterThan(1);
    expect(shown.join(' ').split(/\s+/)).toEqual(text.split(/\s+/));
    expect((stored.blocks as { type: string }[]).at(-1)!.type).toBe('actions');
  });

  it("a failure's long message is clipped in the progress line, never inside an emoji", () => {
    const job = { id: 'j1', state: 'failed', error: { message: `${'e'.repeat(2986)}${'😀'.repeat(20)}` } } as never;
    const line = (progressBlocks(job, 'c1').blocks[0] as unknown as { elements: { text: string }[] }).elements[0]!.text;
    expect(line.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
    expect(line.endsWith('…')).toBe(true);
    // ':x: Failed: ' puts a cut at 2999 between the halves of an emoji: it moves before it.
    expect(line.slice(0, -1)).not.toMatch(/[\uD800-\uDBFF]$/);
    expect(line.length).toBe(2999);
  });
});
