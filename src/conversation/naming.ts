import type { MediaKind } from '../core/types.ts';

/** How the bot names a media item to a user: "image #2", or "the mask image" for unnumbered ones. */
export function mediaName(media: { kind: MediaKind; ordinal: number | null }): string {
  return media.ordinal === null ? `the ${media.kind}` : `${media.kind} #${media.ordinal}`;
}

export function countOf(n: number, kind: MediaKind): string {
  return `${n} ${kind}${n === 1 ? '' : 's'}`;
}
