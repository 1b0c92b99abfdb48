/**
 * The previews this process has announced in job.progress events. Only these may be served by content
 * address (`BotApi.preview`): the blob store also holds results and uploads, which go out through the media
 * routes and their safety screen, never through the preview route. Previews are ephemeral, so the ledger
 * is bounded and lives in memory; after a restart old previews are simply gone.
 */
export class PreviewLedger {
  private readonly announced = new Set<string>();

  constructor(private readonly capacity = 2000) {}

  add(sha256: string): void {
    this.announced.delete(sha256);
    this.announced.add(sha256);
    // A Set iterates in insertion order: the first key is the oldest announcement.
    while (this.announced.size > this.capacity) this.announced.delete(this.announced.values().next().value!);
  }

  has(sha256: string): boolean {
    return this.announced.has(sha256);
  }
}
