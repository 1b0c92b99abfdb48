import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { BotEvent, TurnResult, UserRef } from '../../src/app/bot-api.ts';
import { createBot, type RunningBot } from '../../src/app/create-bot.ts';
import { loadSettings, type Settings } from '../../src/config/settings.ts';

/** A real bot on the embedded defaults in a private temp directory. */
export async function startTestBot(
  env: Record<string, string> = {},
  options: { dir?: string; recover?: boolean } = {},
): Promise<{ running: RunningBot; settings: Settings; dir: string; cleanup(): Promise<void> }> {
  const dir = options.dir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bot-')));
  const settings = loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', LOG_LEVEL: 'silent', JOB_RETRY_BACKOFF_MS: '10', ...env });
  const running = await createBot(settings, { recover: options.recover ?? true });
  return {
    running,
    settings,
    dir,
    async cleanup() {
      await running.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

export function testUser(): UserRef {
  return { platform: 'test', externalId: `user-${randomUUID()}`, name: 'Tester' };
}

/** Records every event of a conversation and lets a test wait for the next one that matches. */
export class EventRecorder {
  readonly events: BotEvent[] = [];
  private waiters: { match: (e: BotEvent) => boolean; resolve: (e: BotEvent) => void }[] = [];

  listener = (event: BotEvent): void => {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.match(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  /** Resolves with the first matching event at or after `from` (an index into `events`). */
  next<T extends BotEvent['type']>(
    type: T,
    from = 0,
    match: (e: Extract<BotEvent, { type: T }>) => boolean = () => true,
  ): Promise<Extract<BotEvent, { type: T }>> {
    const test = (e: BotEvent) => e.type === type && match(e as Extract<BotEvent, { type: T }>);
    const seen = this.events.slice(from).find(test);
    if (seen) return Promise.resolve(seen as Extract<BotEvent, { type: T }>);
    return new Promise((resolve) => this.waiters.push({ match: test, resolve: resolve as (e: BotEvent) => void }));
  }

  /** The job.finished event of the job a turn started. */
  finished(result: TurnResult): Promise<Extract<BotEvent, { type: 'job.finished' }>> {
    const jobId = result.job?.id;
    if (!jobId) throw new Error(`the turn started no job; the bot said: ${result.botTurn?.text}`);
    return this.next('job.finished', 0, (e) => e.job.id === jobId);
  }
}
