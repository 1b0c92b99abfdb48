import type { MediaKind, PlanContext } from '../core/types.ts';

/**
 * The PlanContext of a conversation that holds one media item of `current` kind (or nothing), with
 * `attachments` on the turn being planned: what the CLI's `--with`/`--attach` and the tests describe.
 */
export function contextFor(current: MediaKind | undefined, attachments: MediaKind[] = []): PlanContext {
  return {
    attachments,
    hasImage: current === 'image',
    hasVideo: current === 'video',
    ...(current === undefined ? {} : { currentKind: current }),
  };
}
