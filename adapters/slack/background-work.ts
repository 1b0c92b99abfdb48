import { setImmediate as nextLoopTurn } from 'node:timers/promises';
import type { Logger } from 'pino';

/**
 * Work after a Slack ack: tracked so close() waits for it, and failures are logged, never unhandled.
 * At most `size` run at once; a burst of events otherwise keeps the event loop so busy with turns (the
 * store runs in this thread) that the acks of newer events miss Slack's 3 seconds.
 */
export class BackgroundWork {
  private readonly slots: Slots;
  private readonly running = new Set<Promise<void>>();

  constructor(
    size: number,
    private readonly logger: Logger,
  ) {
    this.slots = new Slots(size);
  }

  run(work: () => Promise<void>): void {
    const task = this.slots
      .acquire()
      .then(async (release) => {
        try {
          // The embedded store (PGlite) runs queries on this thread without giving the loop a turn; yielding
          // here lets the acks of events that arrived meanwhile go out first.
          await nextLoopTurn();
          await work();
        } finally {
          release();
        }
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'slack request failed'));
    this.running.add(task);
    void task.then(() => this.running.delete(task));
  }

  async settled(): Promise<void> {
    await Promise.allSettled([...this.running]);
  }
}

/** A counting semaphore: acquire() resolves with a release function once a slot is free. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = Math.max(1, size);
  }

  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free -= 1;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    };
  }
}
