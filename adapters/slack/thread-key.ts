/**
 * A Slack thread is one conversation; its key is the conversation's externalId, so any event of the
 * core (also one resumed after a restart) maps back to the thread it belongs to.
 */
export interface SlackThread {
  teamId: string;
  channel: string;
  /** The thread's root ts; empty for a direct-message channel used without threads. */
  threadTs: string;
}

export function threadKey(thread: SlackThread): string {
  return `${thread.teamId}:${thread.channel}:${thread.threadTs}`;
}

export function parseThreadKey(key: string | null): SlackThread | undefined {
  const match = key ? /^([A-Z0-9]+):([A-Z0-9]+):([0-9.]*)$/.exec(key) : null;
  if (!match) return undefined;
  return { teamId: match[1]!, channel: match[2]!, threadTs: match[3]! };
}

/** Replies go into the thread; a DM used without threads is answered in the DM itself. */
export function threadArgs(thread: SlackThread): { channel: string; thread_ts?: string } {
  return thread.threadTs ? { channel: thread.channel, thread_ts: thread.threadTs } : { channel: thread.channel };
}
