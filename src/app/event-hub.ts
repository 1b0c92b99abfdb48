import type { BotEvent, Unsubscribe } from './bot-api.ts';

/** Fans bot events out to the adapters following a conversation (SSE streams, chat messages…). */
export class EventHub {
  private readonly listeners = new Map<string, Set<(event: BotEvent) => void>>();
  private readonly everything = new Set<(event: BotEvent) => void>();

  subscribeAll(listener: (event: BotEvent) => void): Unsubscribe {
    this.everything.add(listener);
    return () => this.everything.delete(listener);
  }

  subscribe(conversationId: string, listener: (event: BotEvent) => void): Unsubscribe {
    const set = this.listeners.get(conversationId) ?? new Set();
    this.listeners.set(conversationId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(conversationId);
    };
  }

  publish(event: BotEvent): void {
    for (const listener of [...(this.listeners.get(event.conversationId) ?? []), ...this.everything]) {
      try {
        listener(event);
      } catch {
        // One broken subscriber (a closed stream) must not stop the others from hearing.
      }
    }
  }
}
