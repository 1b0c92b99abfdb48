/**
 * The Slack app in Socket Mode against the local fake Slack, with the real bot behind it. One app and
 * bot serve the whole file (starting a bot is the slow part); each test uses its own channel or thread.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidImage } from '../helpers/media-fixtures.ts';
import { buttonClick, messageShortcut, slashCommand } from './payloads.ts';
import { blocksOf, buttonsOf, isResultMessage, startSlackRig, type SlackRig } from './slack-rig.ts';

let r: SlackRig;
beforeAll(async () => {
  // The rate limit has its own test (limits.test.ts); here one user sends every request of the file.
  r = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0' } });
});
afterAll(async () => {
  await r?.close();
});

async function sharedImage(channel: string, threadTs: string, index = -1): Promise<{ width: number; height: number; gray: boolean }> {
  const shared = r.fake
    .thread(channel, threadTs)
    .filter((m) => m.files?.length)
    .at(index)!;
  const file = r.fake.files.get(shared.files![0]!.id)!;
  const { data, info } = await sharp(file.bytes).raw().toBuffer({ resolveWithObject: true });
  let gray = true;
  for (let i = 0; i < data.length; i += info.channels) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) gray = false;
  return { width: info.width, height: info.height, gray };
}

function mention(channel: string, text: string, extra: Record<string, unknown> = {}): { ts: string; body: Record<string, unknown> } {
  const ts = r.fake.nextTs();
  return { ts, body: r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: `<@UBOT> ${text}`, ts, channel, ...extra }) };
}

describe('Slack in Socket Mode', () => {
  it('mention with a file: ack, one progress message updated to done, the result uploaded in the thread with buttons; a thread reply edits it', async () => {
    const file = r.fake.addFile(await solidImage(64, 48, '#cc3333'), 'red.png');
    const from = r.events.events.length;
    const { ts, body } = mention('C1', 'make it black and white', { files: [file] });
    expect(await r.fake.sendEnvelope('events_api', body)).toEqual({});

    const finished = await r.events.next('job.finished', from);
    expect(finished.job.state).toBe('succeeded');
    const resultMessage = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));

    // Fetched with the bot token from the file host.
    expect(r.fake.callsOf('download').at(-1)!.token).toBe(r.fake.botToken);

    // One progress message in the thread, updated in place until it says done.
    const progressPosts = r.fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts && blocksOf(c.args).some((b) => b.type === 'context'));
    expect(progressPosts).toHaveLength(1);
    const progress = r.fake.thread('C1', ts).find((m) => m.blocks?.some((b) => (b as { type: string }).type === 'context'))!;
    const updates = r.fake.callsOf('chat.update').filter((c) => c.args.channel === 'C1');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((c) => c.args.ts === progress.ts)).toBe(true);
    expect(progress.text).toMatch(/Done · 100%/);

    // The external upload flow, into the same thread.
    const complete = r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts);
    expect(complete).toHaveLength(1);
    expect(complete[0]!.args.channel_id).toBe('C1');
    expect(await sharedImage('C1', ts)).toEqual({ width: 64, height: 48, gray: true });

    // Buttons carry this exact result.
    const buttons = buttonsOf(resultMessage.args);
    expect(buttons.map((b) => b.action_id)).toEqual(['vitron:undo', 'vitron:redo', 'vitron:retry', 'vitron:upscale', 'vitron:cutout', 'vitron:animate']);
    const result = finished.turn.media.find((m) => m.role === 'result')!;
    expect(JSON.parse(buttons[0]!.value)).toEqual({ c: finished.conversationId, m: result.id, p: result.parentId, j: finished.job.id });

    // A reply in the thread, without a mention, continues the conversation from the last result.
    const before = r.events.events.length;
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({
        type: 'message',
        channel_type: 'channel',
        user: 'U1',
        text: 'now crop it to a square',
        ts: r.fake.nextTs(),
        thread_ts: ts,
        channel: 'C1',
      }),
    );
    const second = await r.events.next('job.finished', before);
    expect(second.conversationId).toBe(finished.conversationId);
    expect(second.job.state).toBe('succeeded');
    await r.fake.waitForCall('chat.postMessage', (a, call) => a.thread_ts === ts && isResultMessage(a) && call !== resultMessage);
    expect(await sharedImage('C1', ts)).toEqual({ width: 48, height: 48, gray: true });
  });

  it('answers a direct message in the DM itself, and keeps one conversation for the DM', async () => {
    const from = r.events.events.length;
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'message', channel_type: 'im', channel: 'D2', user: 'U1', text: 'help', ts: r.fake.nextTs() }),
    );
    const answer = await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'D2');
    expect(answer.args.thread_ts).toBeUndefined();
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'message', channel_type: 'im', channel: 'D2', user: 'U1', text: 'help', ts: r.fake.nextTs() }),
    );
    await r.fake.waitForCalls('chat.postMessage', 2, (a) => a.channel === 'D2');
    const userTurns = r.events.events.slice(from).filter((e) => e.type === 'turn' && e.turn.role === 'user');
    expect(userTurns).toHaveLength(2);
    expect(new Set(userTurns.map((e) => e.conversationId)).size).toBe(1);
  });

  it('ignores thread replies in threads that are not its conversations', async () => {
    const root = r.fake.nextTs();
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'message', channel_type: 'channel', user: 'U1', text: 'crop it', ts: r.fake.nextTs(), thread_ts: root, channel: 'C2' }),
    );
    const { body } = mention('C3', 'help');
    await r.fake.sendEnvelope('events_api', body);
    await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C3');
    expect(r.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C2')).toHaveLength(0);
  });

  it('runs one job when Slack delivers the same event again (retry_attempt), and a top-level mention arriving as a message too', async () => {
    const file = r.fake.addFile(await solidImage(32, 32, '#00aa00'), 'green.png');
    const from = r.events.events.length;
    const dropped = r.adapter.duplicatesDropped;
    const { ts, body } = mention('C4', 'make it black and white', { files: [file] });
    await r.fake.sendEnvelope('events_api', body);
    await r.fake.sendEnvelope('events_api', body, { retryAttempt: 1, retryReason: 'timeout' });
    const event = body.event as Record<string, unknown>;
    await r.fake.sendEnvelope('events_api', r.fake.eventCallback({ ...event, type: 'message', channel_type: 'channel', subtype: 'file_share' }));
    const finished = await r.events.next('job.finished', from);
    await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    expect(r.adapter.duplicatesDropped - dropped).toBe(1);
    expect(r.events.events.slice(from).filter((e) => e.type === 'job.queued' && e.conversationId === finished.conversationId)).toHaveLength(1);
    expect(r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts)).toHaveLength(1);
  });

  it('answers a file it cannot read with a clear message in the thread and runs nothing', async () => {
    const file = r.fake.addFile(Buffer.from('this is not an image at all'), 'broken.png');
    const from = r.events.events.length;
    const { ts, body } = mention('C5', 'make it black and white', { files: [file] });
    await r.fake.sendEnvelope('events_api', body);
    const answer = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts);
    expect(String(answer.args.text)).toMatch(/"broken\.png"/);
    expect(String(answer.args.text)).toMatch(/Nothing was done/);
    expect(r.events.events.slice(from).filter((e) => e.type === 'job.queued')).toHaveLength(0);
  });

  it('refuses a file over MAX_UPLOAD_BYTES without downloading it, and a file from a host that is not Slack', async () => {
    const downloads = r.fake.callsOf('download').length;
    const big = r.fake.addFile(await solidImage(8, 8), 'big.png');
    const first = mention('C6', 'make it black and white', { files: [{ ...big, size: 4096 * 1024 * 1024 }] });
    await r.fake.sendEnvelope('events_api', first.body);
    const tooLarge = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === first.ts);
    expect(String(tooLarge.args.text)).toMatch(/too large/);

    const elsewhere = { ...big, url_private: 'https://evil.example.com/x.png', url_private_download: 'https://evil.example.com/x.png' };
    const second = mention('C6', 'make it black and white', { files: [elsewhere] });
    await r.fake.sendEnvelope('events_api', second.body);
    const refused = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === second.ts);
    expect(String(refused.args.text)).toMatch(/evil\.example\.com/);
    expect(r.fake.callsOf('download')).toHaveLength(downloads);
  });

  it('waits for Retry-After when the Web API answers 429, then delivers', async () => {
    r.fake.rateLimit('chat.postMessage', 1);
    const { ts, body } = mention('C7', 'help');
    await r.fake.sendEnvelope('events_api', body);
    const delivered = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts);
    const limited = r.fake.calls.find((c) => c.method === 'chat.postMessage' && c.status === 429)!;
    expect(limited.args.thread_ts).toBe(ts);
    // The client slept for Retry-After (1 s) before trying again.
    expect(delivered.at - limited.at).toBeGreaterThanOrEqual(990);
  });

  it('retries a failed upload, and reports in the thread when it keeps failing', async () => {
    const file = r.fake.addFile(await solidImage(16, 16, '#ff8800'), 'orange.png');
    r.fake.failUploads(1);
    const okCase = mention('C8', 'make it black and white', { files: [file] });
    await r.fake.sendEnvelope('events_api', okCase.body);
    await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === okCase.ts && isResultMessage(a));
    expect(r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === okCase.ts)).toHaveLength(1);

    r.fake.failUploads(1000);
    const failCase = mention('C8', 'make it black and white', { files: [file] });
    await r.fake.sendEnvelope('events_api', failCase.body);
    const report = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === failCase.ts && /could not upload/.test(String(a.text)));
    expect(String(report.args.text)).toMatch(/after 3 tries/);
    r.fake.failUploads(0);
  });

  it('assistant panel: suggested prompts when a thread starts, status while the job runs, cleared after the result', async () => {
    const threadTs = r.fake.nextTs();
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'assistant_thread_started', assistant_thread: { user_id: 'U1', channel_id: 'D1', thread_ts: threadTs, context: {} } }),
    );
    const prompts = await r.fake.waitForCall('assistant.threads.setSuggestedPrompts', (a) => a.thread_ts === threadTs);
    expect(prompts.args.channel_id).toBe('D1');
    expect(JSON.parse(String(prompts.args.prompts)).length).toBeGreaterThan(0);

    const file = r.fake.addFile(await solidImage(24, 24, '#3366cc'), 'blue.png');
    const from = r.events.events.length;
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({
        type: 'message',
        channel_type: 'im',
        channel: 'D1',
        user: 'U1',
        text: 'make it black and white',
        ts: r.fake.nextTs(),
        thread_ts: threadTs,
        files: [file],
      }),
    );
    await r.events.next('job.finished', from);
    const cleared = await r.fake.waitForCall('assistant.threads.setStatus', (a) => a.thread_ts === threadTs && a.status === '');
    const working = r.fake.callsOf('assistant.threads.setStatus').find((c) => c.args.thread_ts === threadTs && c.args.status === 'is working on it…')!;
    const upload = r.fake.callsOf('files.completeUploadExternal').find((c) => c.args.thread_ts === threadTs)!;
    expect(r.fake.calls.indexOf(working)).toBeLessThan(r.fake.calls.indexOf(upload));
    expect(r.fake.calls.indexOf(upload)).toBeLessThan(r.fake.calls.indexOf(cleared));
  });

  it('/vitron starts a thread for the request and answers in it; without words it acks with help', async () => {
    const help = await r.fake.sendEnvelope('slash_commands', slashCommand(r.fake, '', { channel: 'C9' }));
    expect(help).toMatchObject({ response_type: 'ephemeral' });
    expect(String((help as { text: string }).text).length).toBeGreaterThan(20);

    expect(await r.fake.sendEnvelope('slash_commands', slashCommand(r.fake, 'what can you do', { channel: 'C9' }))).toEqual({});
    const root = await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C9' && /asked: what can you do/.test(String(a.text)));
    const rootTs = r.fake.messages.find((m) => m.channel === 'C9' && /asked/.test(m.text ?? ''))!.ts;
    const answer = await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C9' && a.thread_ts === rootTs);
    expect(r.fake.calls.indexOf(root)).toBeLessThan(r.fake.calls.indexOf(answer));
  });

  it('/vitron in a channel the bot cannot post in answers privately how to fix it', async () => {
    r.fake.failMethod('chat.postMessage', 'not_in_channel');
    expect(await r.fake.sendEnvelope('slash_commands', slashCommand(r.fake, 'make it black and white', { channel: 'C12' }))).toEqual({});
    const answer = await r.fake.waitForCall('response_url');
    expect(answer.args).toMatchObject({ response_type: 'ephemeral' });
    expect(String(answer.args.text)).toMatch(/\/invite @vitron/);
  });

  it('message shortcut "Edit with vitron" takes the image of that message into its thread', async () => {
    const file = r.fake.addFile(await solidImage(20, 10, '#aa00aa'), 'purple.png');
    const messageTs = r.fake.nextTs();
    expect(await r.fake.sendEnvelope('interactive', messageShortcut(r.fake, { ts: messageTs, files: [file] }, { channel: 'C10' }))).toEqual({});
    // Who asked, then the bot's question about the file (its turn is recorded by then).
    await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C10' && a.thread_ts === messageTs && /<@U1> asked vitron/.test(String(a.text)));
    const reply = await r.fake.waitForCall('chat.postMessage', (a) => a.channel === 'C10' && a.thread_ts === messageTs && !/asked vitron/.test(String(a.text)));
    expect(String(reply.args.text).length).toBeGreaterThan(0);
    // The thread is now a conversation: a reply edits that image.
    const from = r.events.events.length;
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({
        type: 'message',
        channel_type: 'channel',
        user: 'U1',
        text: 'make it black and white',
        ts: r.fake.nextTs(),
        thread_ts: messageTs,
        channel: 'C10',
      }),
    );
    expect((await r.events.next('job.finished', from)).job.state).toBe('succeeded');
    await r.fake.waitForCall('files.completeUploadExternal', (a) => a.thread_ts === messageTs);
    expect(await sharedImage('C10', messageTs)).toEqual({ width: 20, height: 10, gray: true });
  });

  it('Animate on a result runs a camera move over that picture and shares the MP4 in the thread', async () => {
    const file = r.fake.addFile(await solidImage(16, 16, '#884400'), 'brown.png');
    const { ts, body } = mention('C13', 'make it black and white', { files: [file] });
    await r.fake.sendEnvelope('events_api', body);
    const result = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    const resultTs = r.fake
      .thread('C13', ts)
      .filter((m) => m.blocks)
      .at(-1)!.ts;
    const from = r.events.events.length;
    const animate = buttonsOf(result.args).find((b) => b.action_id === 'vitron:animate')!;
    expect(await r.fake.sendEnvelope('interactive', buttonClick(r.fake, animate, { channel: 'C13', messageTs: resultTs, threadTs: ts }))).toEqual({});
    const queued = await r.events.next('job.queued', from);
    expect(queued.job.tasks).toEqual(['animate']);
    expect((await r.events.next('job.finished', from)).job.state).toBe('succeeded');
    const isClip = (a: Record<string, unknown>) =>
      (JSON.parse(String(a.files)) as { id: string }[]).some(({ id }) => r.fake.uploads.get(id)!.filename.endsWith('.mp4'));
    const upload = await r.fake.waitForCall('files.completeUploadExternal', (a) => a.thread_ts === ts && isClip(a));
    expect(upload.args.channel_id).toBe('C13');
  });

  it('only the author of a job can cancel it', async () => {
    const clip = r.fake.addFile(await solidImage(32, 32), 'c.png');
    const from = r.events.events.length;
    const { ts, body } = mention('C11', 'make it black and white', { files: [clip] });
    await r.fake.sendEnvelope('events_api', body);
    const progress = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && buttonsOf(a).some((b) => b.action_id === 'vitron:cancel'));
    const cancel = buttonsOf(progress.args).find((b) => b.action_id === 'vitron:cancel')!;
    const messageTs = r.fake.thread('C11', ts).find((m) => m.blocks)!.ts;
    expect(await r.fake.sendEnvelope('interactive', buttonClick(r.fake, cancel, { channel: 'C11', messageTs, threadTs: ts, user: 'U2' }))).toEqual({});
    const refusal = await r.fake.waitForCall('chat.postEphemeral', (a) => a.channel === 'C11');
    expect(refusal.args.user).toBe('U2');
    expect(String(refusal.args.text)).toMatch(/Only the person who started a job/);
    await r.events.next('job.finished', from);
  });
});
