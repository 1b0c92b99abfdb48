import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * Who asked for each running job and where its answer goes. The core keeps the job and its conversation
 * (whose externalId names the channel); this file adds what the core has no field for — the author, to
 * mention them and to guard the result's buttons, and the message to reply to — so a result that arrives
 * after a restart still lands in the right place with the right owner.
 */
const entrySchema = z.object({
  ownerId: z.string(),
  channelId: z.string(),
  /** The status message (or interaction reply) in `channelId` that the result answers. */
  replyToId: z.string().optional(),
  uploadLimit: z.number().int().positive(),
});
export type PendingEntry = z.infer<typeof entrySchema>;
const fileSchema = z.record(z.string(), entrySchema);

export class PendingStore {
  private entries: Record<string, PendingEntry> = {};
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  async load(): Promise<void> {
    try {
      this.entries = fileSchema.parse(JSON.parse(await readFile(this.file, 'utf8')));
    } catch (error) {
      // A missing file is the first start; a damaged one only loses mentions of jobs already running.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.entries = {};
    }
  }

  get(jobId: string): PendingEntry | undefined {
    return this.entries[jobId];
  }

  set(jobId: string, entry: PendingEntry): Promise<void> {
    this.entries[jobId] = entry;
    return this.flush();
  }

  delete(jobId: string): Promise<void> {
    if (!(jobId in this.entries)) return Promise.resolve();
    delete this.entries[jobId];
    return this.flush();
  }

  /** Resolves when every write asked for so far has ended, failed ones included: the adapter waits for it on close. */
  settled(): Promise<void> {
    return this.writing.then(
      () => undefined,
      () => undefined,
    );
  }

  private flush(): Promise<void> {
    const snapshot = JSON.stringify(this.entries);
    // Writes go one after another; a failed one is its caller's to report and must not stop the next.
    const write = this.settled().then(async () => {
      await mkdir(path.dirname(this.file), { recursive: true });
      const temp = `${this.file}.tmp`;
      await writeFile(temp, snapshot);
      await rename(temp, this.file);
    });
    this.writing = write;
    return write;
  }
}
