/** Who may use the app and how much: the allowlists from settings, per-user rate and job limits. */
import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, solidImage } from '../helpers/media-fixtures.ts';
import { buttonClick } from './payloads.ts';
import { buttonsOf, startSlackRig, type SlackRig } from './slack-rig.ts';

let r: SlackRig;
beforeAll(async () => {
  r = await startSlackRig({
    env: { USER_RATE_LIMIT_PER_MINUTE: '3', USER_MAX_QUEUED_JOBS: '1', SLACK_ALLOWED_TEAMS: 'T0TEST', SLACK_ALLOWED_CHANNELS: 'C1,C2,C3' },
  });
});
afterAll(async () => {
  await r?.close();
});

function mention(
  channel: string,
  text: string,
  options: { user?: string; teamId?: string; files?: unknown[] } = {},
): { ts: string; body: Record<string, unknown> } {
  const ts = r.fake.nextTs();
  const event = { type: 'app_mention', user: options.user ?? 'U1', text: `<@UBOT> ${text}`, ts, channel, ...(options.files ? { files: options.files } : {}) };
  return { ts, body: r.fake.eventCallback(event, options.teamId ? { teamId: options.teamId } : {}) };
}

describe('Slack limits and allowlists', () => {
  it('ignores channels and workspaces that are not on the allowlist', async () => {
    const from = r.events.events.length;
    await r.fake.sendEnvelope('events_api', mention('C9', 'help').body);
    await r.fake.sendEnvelope('events_api', mention('C1', 'help', { teamId: 'T0OTHER' }).body);
    const allowed = mention('C2', 'help', { user: 'U7' });
    await r.fake.sendEnvelope('events_api', allowed.body);
    await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === allowed.ts);
    expect(r.fake.callsOf('chat.postMessage').filter((c) => c.args.channel === 'C9' || c.args.channel === 'C1')).toHaveLength(0);
    expect(r.events.events.slice(from).filter((e) => e.type === 'turn' && e.turn.role === 'user')).toHaveLength(1);
  });

  it('answers a user over USER_RATE_LIMIT_PER_MINUTE with when to try again; others are unaffected', async () => {
    const sent = [
      mention('C2', 'help', { user: 'U2' }),
      mention('C2', 'help', { user: 'U2' }),
      mention('C2', 'help', { user: 'U2' }),
      mention('C2', 'help', { user: 'U2' }),
    ];
    for (const m of sent) await r.fake.sendEnvelope('events_api', m.body);
    const answers = await Promise.all(sent.map((m) => r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === m.ts)));
    const limited = answers.filter((a) => /faster than this bot allows; try again in \d+ s/.test(String(a.args.text)));
    expect(limited).toHaveLength(1);
    const other = mention('C2', 'help', { user: 'U3' });
    await r.fake.sendEnvelope('events_api', other.body);
    const answer = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === other.ts);
    expect(String(answer.args.text)).not.toMatch(/faster than/);
  });

  it('says clearly when a user already has a job running, and lets its author cancel it', async () => {
    const clip = await makeClip(r.bot.dir, 'long', { seconds: 12, fps: 25, width: 320, height: 240 });
    const video = r.fake.addFile(await fs.readFile(clip), 'long.mp4', 'video/mp4');
    const from = r.events.events.length;
    const slow = mention('C3', 'make it black and white', { user: 'U4', files: [video] });
    await r.fake.sendEnvelope('events_api', slow.body);
    const queued = await r.events.next('job.queued', from);

    const image = r.fake.addFile(await solidImage(16, 16), 'i.png');
    const second = mention('C3', 'make it black and white', { user: 'U4', files: [image] });
    await r.fake.sendEnvelope('events_api', second.body);
    const refusal = await r.fake.waitForCall(
      'chat.postMessage',
      (a) => a.thread_ts === second.ts && /already have 1 jobs? waiting or running/.test(String(a.text)),
    );
    expect(refusal.args.channel).toBe('C3');

    const progress = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === slow.ts && buttonsOf(a).some((b) => b.action_id === 'vitron:cancel'));
    const cancel = buttonsOf(progress.args).find((b) => b.action_id === 'vitron:cancel')!;
    const messageTs = r.fake.thread('C3', slow.ts).find((m) => m.blocks)!.ts;
    await r.fake.sendEnvelope('interactive', buttonClick(r.fake, cancel, { channel: 'C3', messageTs, threadTs: slow.ts, user: 'U4' }));
    const finished = await r.events.next('job.finished', from, (e) => e.job.id === queued.job.id);
    expect(finished.job.state).toBe('cancelled');
    await r.fake.waitForCall('chat.update', (a) => a.ts === messageTs && /Cancelled/.test(String(a.text)));
  });
});
