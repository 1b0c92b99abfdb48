/**
 * Generation in Slack end to end: the real bot and the real Bolt app against the fake Slack, with the fake
 * ComfyUI as the engine. A batch comes as one grid with U/V buttons, V2 varies picture 2, and the daily
 * quota answers in the thread once it is used up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { buttonClick } from './payloads.ts';
import { buttonsOf, startSlackRig, type SlackRig } from './slack-rig.ts';

const CHANNEL = 'CGEN0001';

let comfy: FakeComfyUi;
let r: SlackRig;
beforeAll(async () => {
  comfy = await FakeComfyUi.start();
  r = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0', SAFETY: 'off', COMFYUI_URL: comfy.url, GENERATION_DAILY_QUOTA: '8' } });
});
afterAll(async () => {
  await r?.close();
  closeComfyUiClients();
  await comfy?.close();
});

async function mention(text: string, user = 'U1'): Promise<string> {
  const ts = r.fake.nextTs();
  await r.fake.sendEnvelope('events_api', r.fake.eventCallback({ type: 'app_mention', user, text: `<@UBOT> ${text}`, ts, channel: CHANNEL }));
  return ts;
}

describe('Slack: generated pictures with the real bot and the fake ComfyUI', () => {
  it('uploads a batch as one grid with U1–U4 / V1–V4, V2 varies picture 2, and the quota answers in the thread', { timeout: 240_000 }, async () => {
    const from = r.events.events.length;
    const ts = await mention('draw a red fox in the snow, 4 pictures');
    const drawn = await r.events.next('job.finished', from);
    const pictures = drawn.turn.media.filter((m) => m.role === 'result');
    expect(pictures).toHaveLength(4);
    const message = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && buttonsOf(a).some((b) => b.action_id === 'vitron:vary:1'));
    const buttons = buttonsOf(message.args);
    const labels = buttons.map((b) => (b as { text?: { text?: string } }).text?.text);
    expect(labels).toEqual(expect.arrayContaining(['U1', 'U2', 'U3', 'U4', 'V1', 'V2', 'V3', 'V4']));
    // Previews come and go while it works; what stays is one upload: the grid.
    const uploads = r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts && !/Preview/.test(JSON.stringify(c.args.files)));
    expect(uploads).toHaveLength(1);

    const v2 = buttons.find((b) => b.action_id === 'vitron:vary:2')!;
    expect(JSON.parse(v2.value).m).toBe(pictures[1]!.id);
    const before = r.events.events.length;
    const messageTs = r.fake.thread(CHANNEL, ts).at(-1)!.ts;
    await r.fake.sendEnvelope('interactive', buttonClick(r.fake, v2, { channel: CHANNEL, messageTs, threadTs: ts }));
    const varied = await r.events.next('job.finished', before);
    expect(varied.job.state).toBe('succeeded');
    const takes = varied.turn.media.filter((m) => m.role === 'result');
    expect(takes).toHaveLength(4);
    for (const take of takes) expect(take.parentId).toBe(pictures[1]!.id);

    // 4 + 4 of the 8 a day are used: one more picture is refused, in the thread, with when the day resets.
    const third = await mention('draw a cat');
    const refusal = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === third && /today's 8 generated pictures/.test(String(a.text)));
    expect(String(refusal.args.text)).toMatch(/midnight UTC/);
  });
});
