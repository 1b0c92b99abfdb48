/**
 * "Edit with vitron" asks for the prompt in a pop-up; the submit that follows carries the pop-up's fields
 * but not the message it was opened on. The menu interaction does carry that message (resolved, with its
 * attachments), so its attachments wait here for the submit instead of being fetched again, which needs
 * View Channel and Read Message History the bot may not have where the menu was used.
 */
export interface MenuAttachment {
  url: string;
  name: string;
  size: number;
  contentType: string | null;
}

/** Past this a pop-up counts as abandoned; its interaction token has expired by then anyway. */
const LIFETIME_MS = 15 * 60_000;

export class MenuTargets {
  private readonly entries = new Map<string, { attachments: MenuAttachment[]; expiresAt: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  remember(userId: string, channelId: string, messageId: string, attachments: MenuAttachment[]): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
    this.entries.set(`${userId}:${channelId}:${messageId}`, { attachments, expiresAt: now + LIFETIME_MS });
  }

  /** The attachments kept for this user's pop-up, once; undefined after a restart or past the lifetime. */
  take(userId: string, channelId: string, messageId: string): MenuAttachment[] | undefined {
    const key = `${userId}:${channelId}:${messageId}`;
    const entry = this.entries.get(key);
    this.entries.delete(key);
    return entry && entry.expiresAt > this.now() ? entry.attachments : undefined;
  }
}
