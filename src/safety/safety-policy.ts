import type { Settings } from '../config/settings.ts';
import type { MediaKind, SafetyVerdict } from '../core/types.ts';

export type SafetyMode = Settings['SAFETY'];

/** What an adapter does with one picture or video before posting it. */
export type PostDecision = { post: true } | { post: false; reason: 'flagged-outside-nsfw' | 'flagged-blocked'; message: string };

export interface PostQuestion {
  mode: SafetyMode;
  /** The classifier's verdict; absent when the media was never classified (SAFETY was off, or an old item). */
  verdict?: SafetyVerdict;
  /** Whether the place the media would go allows NSFW (a Discord NSFW channel, SLACK_NSFW_CHANNELS, PLAYGROUND_NSFW). */
  nsfwAllowed: boolean;
  kind?: MediaKind;
  /** Where flagged media may go, for the refusal: "channels marked NSFW" unless the place says otherwise. */
  nsfwPlaces?: string;
}

/**
 * The whole policy, with no I/O: off posts everything; flag withholds flagged media outside NSFW places;
 * block withholds flagged media everywhere. Unclassified media is posted: the classifier runs on every
 * output and upload while SAFETY is on, so only media from before safety was turned on lacks a verdict.
 */
export function decidePost(question: PostQuestion): PostDecision {
  const { mode, verdict, nsfwAllowed } = question;
  if (mode === 'off' || verdict === undefined || !verdict.flagged) return { post: true };
  const what = question.kind === 'video' ? 'video' : 'picture';
  if (mode === 'block') {
    return { post: false, reason: 'flagged-blocked', message: `This ${what} was flagged as NSFW by the safety filter, so it is not posted.` };
  }
  if (nsfwAllowed) return { post: true };
  return {
    post: false,
    reason: 'flagged-outside-nsfw',
    message: `This ${what} was flagged as NSFW by the safety filter, so I only post it in ${question.nsfwPlaces ?? 'channels marked NSFW'}.`,
  };
}

/** Is this Slack channel one of SLACK_NSFW_CHANNELS? */
export function slackChannelAllowsNsfw(settings: Pick<Settings, 'SLACK_NSFW_CHANNELS'>, channelId: string): boolean {
  return settings.SLACK_NSFW_CHANNELS?.includes(channelId) ?? false;
}
