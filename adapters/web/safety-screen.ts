import type { Logger } from 'pino';
import type { BotApi, BotEvent, HistoryView, MediaView, TurnResult, TurnView } from '../../src/app/bot-api.ts';
import type { Settings } from '../../src/config/settings.ts';
import { ContentBlockedError } from '../../src/errors.ts';
import { decidePost } from '../../src/safety/safety-policy.ts';
import { mediaGate } from '../shared/safety-gate.ts';

/** A media view as the browser gets it: a withheld item carries the sentence to show instead, and no URL. */
export type PlaygroundMediaView = MediaView & { withheld?: string };

export type PlaygroundSafety = Pick<Settings, 'SAFETY' | 'PLAYGROUND_NSFW'>;

/**
 * The playground's safety policy as a wrapper around the core: every turn, history and event the browser
 * receives has flagged media replaced by the sentence (PLAYGROUND_NSFW allows it under SAFETY=flag), and
 * GET /api/media refuses the bytes, so a copied URL does not get around it. The user's own uploads are
 * shown back as they are: they came from this browser.
 */
export function screenedBot(bot: BotApi, safety: PlaygroundSafety, logger: Pick<Logger, 'warn'>): BotApi {
  if (safety.SAFETY === 'off') return bot;
  const gate = (conversationId: string) =>
    mediaGate({ settings: safety, logger, platform: 'web', conversationId, place: 'playground', nsfwAllowed: safety.PLAYGROUND_NSFW });
  const screenTurn = (conversationId: string, turn: TurnView): TurnView => {
    const withheld = gate(conversationId);
    return {
      ...turn,
      media: turn.media.map((view): PlaygroundMediaView => {
        const sentence = view.role === 'upload' ? undefined : withheld(view);
        return sentence === undefined ? view : { ...view, url: '', withheld: sentence };
      }),
    };
  };
  const screenResult = (conversationId: string, result: TurnResult): TurnResult => ({
    ...result,
    userTurn: screenTurn(conversationId, result.userTurn),
    ...(result.botTurn ? { botTurn: screenTurn(conversationId, result.botTurn) } : {}),
  });
  const screenEvent = (event: BotEvent): BotEvent => ('turn' in event ? { ...event, turn: screenTurn(event.conversationId, event.turn) } : event);

  const screenMedia = (mediaId: string, found: { view: MediaView; path: string }): { view: MediaView; path: string } => {
    const { view } = found;
    const decision =
      view.role === 'upload'
        ? { post: true as const }
        : decidePost({ mode: safety.SAFETY, verdict: view.safety, nsfwAllowed: safety.PLAYGROUND_NSFW, kind: view.kind });
    if (!decision.post) throw new ContentBlockedError(decision.message, { mediaId });
    return found;
  };

  const overrides: Partial<BotApi> = {
    async history(conversationId): Promise<HistoryView> {
      const history = await bot.history(conversationId);
      return { ...history, turns: history.turns.map((turn) => screenTurn(conversationId, turn)) };
    },
    async handleTurn(request) {
      return screenResult(request.conversationId, await bot.handleTurn(request));
    },
    async invoke(request) {
      return screenResult(request.conversationId, await bot.invoke(request));
    },
    async act(input) {
      return screenResult(input.conversationId, await bot.act(input));
    },
    async repeat(input) {
      return screenResult(input.conversationId, await bot.repeat(input));
    },
    subscribe(conversationId, listener) {
      return bot.subscribe(conversationId, (event) => listener(screenEvent(event)));
    },
    subscribeAll(listener) {
      return bot.subscribeAll((event) => listener(screenEvent(event)));
    },
    async openMediaLink(mediaId, link) {
      return screenMedia(mediaId, await bot.openMediaLink(mediaId, link));
    },
    async media(mediaId) {
      return screenMedia(mediaId, await bot.media(mediaId));
    },
  };
  // Everything else goes to the core unchanged, with the core as `this`.
  return new Proxy(bot, {
    get(target, property, receiver) {
      if (typeof property === 'string' && property in overrides) return overrides[property as keyof BotApi];
      const value = Reflect.get(target, property, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
