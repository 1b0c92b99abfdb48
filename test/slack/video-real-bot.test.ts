/**
 * A video in Slack end to end: the real bot and the real Bolt app against the fake Slack, with the fake
 * ComfyUI (real clips made by ffmpeg) as the engine. The thread gets the progress message updated in place,
 * then the MP4 and a message with Retry and Longer; Longer makes the same seed twice as long.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { buttonClick } from './payloads.ts';
import { buttonsOf, startSlackRig, type SlackRig } from './slack-rig.ts';

const CHANNEL = 'CVID0001';

let comfy: FakeComfyUi;
let r: SlackRig;
beforeAll(async () => {
  comfy = await FakeComfyUi.start();
  r = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0', SAFETY: 'off', COMFYUI_URL: comfy.url } });
});
afterAll(async () => {
  await r?.close();
  closeComfyUiClients();
  await comfy?.close();
});

describe('Slack: a generated video with the real bot and the fake ComfyUI', () => {
  it('updates the progress message, uploads the MP4 with Retry and Longer, and Longer makes the same seed twice as long', { timeout: 240_000 }, async () => {
    comfy.stepDelayMs = 300;
    const from = r.events.events.length;
    const ts = r.fake.nextTs();
    await r.fake.sendEnvelope(
      'events_api',
      r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make a 2 second video of fireworks', ts, channel: CHANNEL }),
    );
    const made = await r.events.next('job.finished', from);
    expect(made.job.state).toBe('succeeded');
    const clip = made.turn.media.find((m) => m.role === 'result')!;
    expect(clip).toMatchObject({ kind: 'video', mime: 'video/mp4', generation: { engine: 'comfyui' } });

    await r.fake.waitForCall('chat.update', (a) => /Working on it.*\d+%/.test(String(a.text)));
    const message = await r.fake.waitForCall(
      'chat.postMessage',
      (a) => a.thread_ts === ts && buttonsOf(a).some((b) => b.action_id.startsWith('vitron:longer')),
    );
    const buttons = buttonsOf(message.args);
    const labels = buttons.map((b) => (b as { text?: { text?: string } }).text?.text);
    expect(labels).toEqual(expect.arrayContaining(['Retry', 'Longer']));
    expect(labels).not.toContain('Animate');
    // Previews come and go while it works; what stays is one upload: the clip.
    const uploads = r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts && !/Preview/.test(JSON.stringify(c.args.files)));
    expect(uploads).toHaveLength(1);
    expect([...r.fake.uploads.values()].some((u) => u.filename.endsWith('.mp4'))).toBe(true);

    comfy.stepDelayMs = 1;
    const longer = buttons.find((b) => b.action_id.startsWith('vitron:longer'))!;
    expect(JSON.parse(longer.value).m).toBe(clip.id);
    const before = r.events.events.length;
    const messageTs = r.fake.thread(CHANNEL, ts).at(-1)!.ts;
    await r.fake.sendEnvelope('interactive', buttonClick(r.fake, longer, { channel: CHANNEL, messageTs, threadTs: ts }));
    const long = await r.events.next('job.finished', before);
    expect(long.job.state).toBe('succeeded');
    const take = long.turn.media.find((m) => m.role === 'result')!;
    expect(take.generation?.seed).toBe(clip.generation!.seed);
    expect(take.durationSec!).toBeGreaterThan(clip.durationSec! * 1.6);
  });
});
