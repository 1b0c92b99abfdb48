import type { Logger } from 'pino';
import type { MediaView } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { decidePost } from '../../src/safety/safety-policy.ts';

/**
 * Asked for every picture or video an adapter is about to post: undefined to post it, or the sentence the
 * user gets in its place. A withheld item is logged once per decision with the conversation, media id and
 * score, so an operator can see what the filter kept back and tune SAFETY_NSFW_THRESHOLD.
 */
export type MediaGate = (view: MediaView) => string | undefined;

export interface GatePlace {
  settings: Pick<Settings, 'SAFETY'>;
  logger: Pick<Logger, 'warn'>;
  platform: 'discord' | 'slack' | 'web' | 'mcp';
  conversationId: string;
  /** The channel (or "playground") the media would be posted in, for the log line. */
  place: string;
  /** Does this place allow NSFW media: a Discord NSFW channel, one of SLACK_NSFW_CHANNELS, PLAYGROUND_NSFW. */
  nsfwAllowed: boolean;
  /** Where flagged media may go, for the refusal (default "channels marked NSFW"). */
  nsfwPlaces?: string;
}

export function mediaGate(place: GatePlace): MediaGate {
  return (view) => {
    const decision = decidePost({
      mode: place.settings.SAFETY,
      verdict: view.safety,
      nsfwAllowed: place.nsfwAllowed,
      kind: view.kind,
      ...(place.nsfwPlaces ? { nsfwPlaces: place.nsfwPlaces } : {}),
    });
    if (decision.post) return undefined;
    place.logger.warn(
      {
        event: 'safety.withheld',
        platform: place.platform,
        conversationId: place.conversationId,
        place: place.place,
        mediaId: view.id,
        nsfw: view.safety?.nsfw,
        reason: decision.reason,
      },
      'safety: media withheld',
    );
    return decision.message;
  };
}
