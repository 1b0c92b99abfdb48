/**
 * Slack delivers an event again when it saw no ack in time (X-Slack-Retry-Num, the same event_id), and
 * a mention inside a thread arrives both as app_mention and as message. Both carry the same message
 * (channel + ts), which is the key: the first claim wins, later ones are dropped.
 *
 * Claims live in memory with a TTL and, with a journal file, survive a restart: a redelivery that
 * arrives after the process came back is still recognised. One process holds the Slack connection,
 * so a local file is enough; a crash between a claim and its append can let one redelivery through.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

export interface DeliveryDedupeOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** Append-only file of claims ("<ms>\t<key>" lines), compacted at load. */
  journalPath?: string;
}

export class DeliveryDedupe {
  private readonly seen = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private writes: Promise<void> = Promise.resolve();
  private writeError: unknown;

  constructor(private readonly options: DeliveryDedupeOptions = {}) {
    this.ttlMs = options.ttlMs ?? 60 * 60_000;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.now = options.now ?? Date.now;
  }

  /** Reads the journal's fresh claims and rewrites it without the stale ones. */
  async load(): Promise<void> {
    const file = this.options.journalPath;
    if (!file) return;
    await fs.mkdir(path.dirname(file), { recursive: true });
    let text = '';
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const now = this.now();
    for (const line of text.split('\n')) {
      const tab = line.indexOf('\t');
      const at = Number(line.slice(0, tab));
      if (tab > 0 && Number.isFinite(at) && now - at < this.ttlMs) this.seen.set(line.slice(tab + 1), at);
    }
    this.prune(now);
    const fresh = [...this.seen].map(([key, at]) => `${at}\t${key}\n`).join('');
    await fs.writeFile(`${file}.tmp`, fresh);
    await fs.rename(`${file}.tmp`, file);
  }

  /** True the first time a key is claimed within the TTL. */
  claim(key: string): boolean {
    const now = this.now();
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.delete(key);
    this.seen.set(key, now);
    if (this.seen.size > this.maxEntries) this.prune(now);
    const file = this.options.journalPath;
    if (file && !/[\t\n]/.test(key)) {
      this.writes = this.writes
        .then(() => fs.appendFile(file, `${now}\t${key}\n`))
        .catch((error: unknown) => {
          this.writeError = error;
        });
    }
    return true;
  }

  /** Waits for pending journal appends; throws the last append error, if any. */
  async flush(): Promise<void> {
    await this.writes;
    const error = this.writeError;
    this.writeError = undefined;
    if (error !== undefined) throw error;
  }

  private prune(now: number): void {
    for (const [key, at] of this.seen) if (now - at >= this.ttlMs) this.seen.delete(key);
    // Still full of fresh keys: drop the oldest, which Map keeps first.
    for (const key of this.seen.keys()) {
      if (this.seen.size <= this.maxEntries) break;
      this.seen.delete(key);
    }
  }
}
