/**
 * Flagged media in Slack, end to end: the real bot and the real Bolt app against the fake Slack. The real
 * classifier runs on every output, with SAFETY_NSFW_THRESHOLD=0 so that every picture counts as flagged
 * (a score is never below 0): what varies between the tests is only where the result would be posted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { solidImage } from '../helpers/media-fixtures.ts';
import { isResultMessage, startSlackRig, type SlackRig } from './slack-rig.ts';

const NSFW_CHANNEL = 'CNSFW01';
const PLAIN_CHANNEL = 'CPLAIN01';
const WITHHELD = 'This picture was flagged as NSFW by the safety filter, so I only post it in channels marked NSFW.';

let r: SlackRig;
beforeAll(async () => {
  r = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0', SAFETY: 'flag', SAFETY_NSFW_THRESHOLD: '0', SLACK_NSFW_CHANNELS: NSFW_CHANNEL } });
});
afterAll(async () => {
  await r?.close();
});

/** A mention with a picture asking for a quick edit; resolves once its job has finished. */
async function editIn(channel: string) {
  const file = r.fake.addFile(await solidImage(64, 48, '#cc3333'), 'red.png');
  const from = r.events.events.length;
  const ts = r.fake.nextTs();
  await r.fake.sendEnvelope(
    'events_api',
    r.fake.eventCallback({ type: 'app_mention', user: 'U1', text: '<@UBOT> make it black and white', ts, channel, files: [file] }),
  );
  const finished = await r.events.next('job.finished', from);
  return { ts, finished };
}

describe('Slack: flagged media and SLACK_NSFW_CHANNELS (real bot, real classifier, threshold 0)', () => {
  it('records the verdict on the result', async () => {
    const { finished } = await editIn(PLAIN_CHANNEL);
    expect(finished.turn.media.find((m) => m.role === 'result')?.safety).toEqual({
      nsfw: expect.any(Number),
      flagged: true,
    });
  });

  it('withholds the flagged result in a channel outside SLACK_NSFW_CHANNELS: nothing uploaded, the reason in the thread', async () => {
    const { ts } = await editIn(PLAIN_CHANNEL);
    const reason = await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && String(a.text).includes(WITHHELD));
    // The bot's words about the edit stay; the reason comes last, in place of the picture.
    const lines = String(reason.args.text).split('\n');
    expect(lines[0]).toBe('Adjusted: grayscale.');
    expect(lines.at(-1)).toBe(WITHHELD);
    expect(r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts)).toHaveLength(0);
    expect(r.fake.callsOf('chat.postMessage').filter((c) => c.args.thread_ts === ts && isResultMessage(c.args))).toHaveLength(0);
  });

  it('posts the same flagged result in a channel listed in SLACK_NSFW_CHANNELS', async () => {
    const { ts } = await editIn(NSFW_CHANNEL);
    await r.fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
    const uploads = r.fake.callsOf('files.completeUploadExternal').filter((c) => c.args.thread_ts === ts);
    expect(uploads).toHaveLength(1);
    expect(r.fake.thread(NSFW_CHANNEL, ts).some((m) => (m.text ?? '').includes(WITHHELD))).toBe(false);
  });
});
