import { describe, expect, it } from 'vitest';
import { decidePost, slackChannelAllowsNsfw } from '../../src/safety/safety-policy.ts';

const FLAGGED = { nsfw: 0.9, flagged: true };
const CLEAN = { nsfw: 0.1, flagged: false };
const ONLY_NSFW = 'This picture was flagged as NSFW by the safety filter, so I only post it in channels marked NSFW.';
const NEVER = 'This picture was flagged as NSFW by the safety filter, so it is not posted.';

describe('safety policy: post or withhold', () => {
  // mode, verdict, NSFW place → posted?, sentence when withheld
  const matrix = [
    ['off', FLAGGED, false, true, undefined],
    ['off', FLAGGED, true, true, undefined],
    ['flag', CLEAN, false, true, undefined],
    ['flag', FLAGGED, false, false, ONLY_NSFW],
    ['flag', FLAGGED, true, true, undefined],
    ['block', CLEAN, false, true, undefined],
    ['block', FLAGGED, false, false, NEVER],
    ['block', FLAGGED, true, false, NEVER],
    ['flag', undefined, false, true, undefined],
    ['block', undefined, false, true, undefined],
  ] as const;

  it.each(matrix)('SAFETY=%s, verdict %j, NSFW place %s → posted %s', (mode, verdict, nsfwAllowed, posted, sentence) => {
    const decision = decidePost({ mode, ...(verdict ? { verdict } : {}), nsfwAllowed, kind: 'image' });
    expect(decision.post).toBe(posted);
    expect(decision.post ? undefined : decision.message).toBe(sentence);
  });

  it('names a video as a video', () => {
    const decision = decidePost({ mode: 'flag', verdict: FLAGGED, nsfwAllowed: false, kind: 'video' });
    expect(decision).toEqual({
      post: false,
      reason: 'flagged-outside-nsfw',
      message: 'This video was flagged as NSFW by the safety filter, so I only post it in channels marked NSFW.',
    });
  });

  it('a Slack channel allows NSFW only when SLACK_NSFW_CHANNELS lists it', () => {
    expect(slackChannelAllowsNsfw({ SLACK_NSFW_CHANNELS: ['C111', 'C222'] }, 'C222')).toBe(true);
    expect(slackChannelAllowsNsfw({ SLACK_NSFW_CHANNELS: ['C111'] }, 'C333')).toBe(false);
    expect(slackChannelAllowsNsfw({ SLACK_NSFW_CHANNELS: undefined }, 'C111')).toBe(false);
  });
});
