import type { MediaKind, PlanContext } from '../core/types.ts';

/**
 * The PlanContext of a conversation that holds one media item of `current` kind (or nothing), with
 * `attachments` on the turn being planned: what the CLI's `--with`/`--attach`, `eval:planner` and the tests describe.
 * It carries the conversation facts a language-model planner reads too: that one item, current, and no words yet.
 */
export function contextFor(current: MediaKind | undefined, attachments: MediaKind[] = []): PlanContext {
  return {
    attachments,
    hasImage: current === 'image',
    hasVideo: current === 'video',
    ...(current === undefined ? {} : { currentKind: current }),
    conversation: {
      media: current === undefined ? [] : [{ ref: `${current}:1`, kind: current, width: 1024, height: 768, role: 'upload', current: true }],
      turns: [],
    },
  };
}
