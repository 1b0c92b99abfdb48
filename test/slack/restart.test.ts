/**
 * Restarts: a new app and a new bot on the same data (PGlite on disk) and the same Slack. Buttons
 * carry their ids, and core events map back to threads through the conversation's externalId, so
 * nothing depends on the memory of the process that posted them.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TurnResult } from '../../src/app/bot-api.ts';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { makeClip, solidImage } from '../helpers/media-fixtures.ts';
import { buttonClick } from './payloads.ts';
import { buttonsOf, isResultMessage, startSlackRig, type SlackRig } from './slack-rig.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ fake: FakeSlack; dir: string; start(recover?: boolean): Promise<SlackRig> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-slack-restart-'));
  const fake = await new FakeSlack().start();
  cleanups.push(async () => {
    await fake.close();
    await fs.rm(dir, { recursive: true, force: true });
  });
  return {
    fake,
    dir,
    async start(recover = false) {
      const rig = await startSlackRig({ fake, dir, recover, env: { PGLITE_DIR: path.join(dir, 'db') } });
      cleanups.push(() => rig.close());
      return rig;
    },
  };
}

// Two bots start per test; on a busy two-core machine that alone can take most of a minute.
describe('Slack across a restart', () => {
  it('result buttons still act on their exact result after the app and bot restart', async () => {
    const { fake, start } = await setup();
    const first = await start();
    const file = fake.addFile(await solidImage(40, 20, '#cc3333'), 'red.png');
    const ts = fake.nextTs();
    await fake.sendEnvelope(
      'events_api',
      fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C1', files: [file] }),
    );
    const result = await fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    const buttons = buttonsOf(result.args);
    const resultTs = fake
      .thread('C1', ts)
      .filter((m) => m.blocks)
      .at(-1)!.ts;
    await first.stopApp();

    const second = await start();
    // Slack redelivering the first mention after the restart does not run it again.
    const mentionEvent = fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C1', files: [file] });
    await fake.sendEnvelope('events_api', mentionEvent, { retryAttempt: 2, retryReason: 'timeout' });
    // Retry runs the same request again from the same input, and the new result lands in the same thread.
    const retry = buttons.find((b) => b.action_id === 'vitron:retry')!;
    const uploadsBefore = fake.callsOf('files.completeUploadExternal').length;
    expect(await fake.sendEnvelope('interactive', buttonClick(fake, retry, { channel: 'C1', messageTs: resultTs, threadTs: ts }))).toEqual({});
    const finished = await second.events.next('job.finished');
    expect(finished.job.state).toBe('succeeded');
    expect(finished.job.tasks).toEqual(['adjust']);
    const upload = (await fake.waitForCalls('files.completeUploadExternal', uploadsBefore + 1)).at(-1)!;
    expect(upload.args.thread_ts).toBe(ts);
    expect(upload.args.channel_id).toBe('C1');

    // Undo on the first result goes back to what came before it (the upload), answered in the thread.
    const undo = buttons.find((b) => b.action_id === 'vitron:undo')!;
    const inThread = fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts).length;
    await fake.sendEnvelope('interactive', buttonClick(fake, undo, { channel: 'C1', messageTs: resultTs, threadTs: ts }));
    await fake.waitForCalls('chat.postMessage', inThread + 1, (a) => a.thread_ts === ts);
    const history = await second.bot.running.bot.history(finished.conversationId);
    expect(history.currentMediaId).toBe(JSON.parse(undo.value).p);
    expect(second.adapter.duplicatesDropped).toBe(1);
    expect(second.events.events.filter((e) => e.type === 'job.queued')).toHaveLength(1);
  }, 240_000);

  it("a redelivery the adapter's journal no longer knows (deleted between two instances on one store) still runs one job: the core answers it as a duplicate", async () => {
    const { fake, dir, start } = await setup();
    const first = await start();
    const file = fake.addFile(await solidImage(24, 24, '#3366cc'), 'blue.png');
    const ts = fake.nextTs();
    const body = fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C1', files: [file] });
    await fake.sendEnvelope('events_api', body);
    const finished = await first.events.next('job.finished');
    await fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    await first.stopApp();
    // What a second process, or a crash between a claim and its append, looks like to the adapter.
    const journal = path.join(dir, 'slack', 'deliveries.log');
    await fs.access(journal);
    await fs.rm(journal);

    const second = await start();
    const bot = second.bot.running.bot;
    const handle = bot.handleTurn.bind(bot);
    const answered = new Promise<TurnResult>((resolve) => {
      bot.handleTurn = async (request) => {
        const result = await handle(request);
        resolve(result);
        return result;
      };
    });
    const inThread = fake.thread('C1', ts).length;
    await fake.sendEnvelope('events_api', body, { retryAttempt: 3, retryReason: 'timeout' });
    const result = await answered;
    expect(second.adapter.duplicatesDropped).toBe(0);
    expect(result.duplicate).toBe(true);
    expect(result.job?.id).toBe(finished.job.id);
    const history = await bot.history(finished.conversationId);
    expect(history.turns.filter((t) => t.role === 'user')).toHaveLength(1);
    // close() waits for the adapter's work after the ack: nothing of it reached the thread or the queue.
    await second.stopApp();
    expect(second.events.events.filter((e) => e.type === 'job.queued')).toHaveLength(0);
    expect(fake.thread('C1', ts)).toHaveLength(inThread);
  }, 240_000);

  it('an assistant-panel message redelivered past the journal sets the status for a moment and clears it again, and answers nothing', async () => {
    const { fake, dir, start } = await setup();
    const first = await start();
    const threadTs = fake.nextTs();
    const body = fake.eventCallback({ type: 'message', channel_type: 'im', channel: 'D1', user: 'U1', text: 'help', ts: fake.nextTs(), thread_ts: threadTs });
    await fake.sendEnvelope('events_api', body);
    await fake.waitForCall('assistant.threads.setStatus', (a) => a.thread_ts === threadTs && a.status === '');
    await first.stopApp();
    await fs.rm(path.join(dir, 'slack', 'deliveries.log'));

    const second = await start();
    const statusCalls = fake.callsOf('assistant.threads.setStatus').length;
    const posts = fake.callsOf('chat.postMessage').length;
    await fake.sendEnvelope('events_api', body, { retryAttempt: 1, retryReason: 'timeout' });
    // Without the clear, the panel would say "is working on it…" for a job that never comes.
    const calls = await fake.waitForCalls('assistant.threads.setStatus', statusCalls + 2);
    expect(calls.slice(statusCalls).map((c) => [c.args.thread_ts, c.args.status])).toEqual([
      [threadTs, 'is working on it…'],
      [threadTs, ''],
    ]);
    await second.stopApp();
    expect(fake.callsOf('chat.postMessage')).toHaveLength(posts);
  }, 240_000);

  it('a job interrupted by a stop is resumed at the next start and its result still reaches the thread', async () => {
    const { fake, dir, start } = await setup();
    const first = await start();
    const clip = await makeClip(dir, 'slow', { seconds: 12, fps: 25, width: 320, height: 240 });
    const file = fake.addFile(await fs.readFile(clip), 'clip.mp4', 'video/mp4');
    const ts = fake.nextTs();
    await fake.sendEnvelope(
      'events_api',
      fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel: 'C1', files: [file] }),
    );
    const running = await first.events.next('job.progress', 0, (e) => (e.job.progress?.fraction ?? 0) > 0);
    await first.stopApp();

    const second = await start(true);
    const finished = await second.events.next('job.finished', 0, (e) => e.job.id === running.job.id);
    expect(finished.job.state).toBe('succeeded');
    const upload = await fake.waitForCall('files.completeUploadExternal', (a) => a.thread_ts === ts);
    expect(upload.args.channel_id).toBe('C1');
    await fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    expect(fake.thread('C1', ts).some((m) => /restarted/.test(m.text ?? ''))).toBe(true);
  }, 240_000);
});
