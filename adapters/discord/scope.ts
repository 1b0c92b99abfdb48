/**
 * Where a conversation lives on Discord, kept in the core as the conversation's externalId, so a result
 * (also one of a job resumed after a restart) can be sent to the right channel with nothing in memory.
 */
export type DiscordScope =
  | { kind: 'thread'; channelId: string }
  | { kind: 'dm'; channelId: string }
  | { kind: 'chain'; channelId: string; rootMessageId: string };

export function scopeKey(scope: DiscordScope): string {
  return scope.kind === 'chain' ? `chain:${scope.channelId}:${scope.rootMessageId}` : `${scope.kind}:${scope.channelId}`;
}

export function parseScope(externalId: string | null): DiscordScope | undefined {
  const parts = externalId?.split(':') ?? [];
  if ((parts[0] === 'thread' || parts[0] === 'dm') && parts.length === 2 && /^\d+$/.test(parts[1]!)) return { kind: parts[0], channelId: parts[1]! };
  if (parts[0] === 'chain' && parts.length === 3 && /^\d+$/.test(parts[1]!) && /^\d+$/.test(parts[2]!)) {
    return { kind: 'chain', channelId: parts[1]!, rootMessageId: parts[2]! };
  }
  return undefined;
}
