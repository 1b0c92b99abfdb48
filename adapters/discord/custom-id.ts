import { z } from 'zod';

/**
 * Buttons and menus carry everything they act on (conversation, exact media, author) in their custom_id,
 * so a press still works after a restart with no state kept in memory. Discord caps custom_id at 100
 * characters: cuid ids (25) and snowflakes (≤ 20) fit with room to spare.
 */
/**
 * `vary` is a grid's V1..V4 (variations of that picture); a grid's U1..U4 are `upscale` on the picture;
 * `longer` is a clip's Longer (the same request with more seconds).
 */
export const BUTTON_ACTIONS = ['undo', 'redo', 'retry', 'upscale', 'cutout', 'animate', 'download', 'pick', 'choose', 'cancel', 'vary', 'longer'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export interface ComponentTarget {
  action: ButtonAction;
  /** The conversation, or the job for `cancel`. */
  subject: string;
  /** The exact media item the button works on; '-' when there is none (cancel, pick); the option number for `choose`. */
  mediaId: string;
  /** The user whose job or result this is: only they (or a member with Manage Messages) may press. */
  ownerId: string;
}

const PREFIX = 'vt1';
const idPart = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/);
const schema = z.tuple([z.literal(PREFIX), z.enum(BUTTON_ACTIONS), idPart, idPart, z.string().regex(/^\d{1,25}$/)]);

export function encodeCustomId(target: ComponentTarget): string {
  const id = [PREFIX, target.action, target.subject, target.mediaId, target.ownerId].join(':');
  if (id.length > 100) throw new RangeError(`custom_id is ${id.length} characters; Discord allows 100`);
  return id;
}

/** Undefined for anything that is not ours (another bot's component, an old format). */
export function decodeCustomId(customId: string): ComponentTarget | undefined {
  const parsed = schema.safeParse(customId.split(':'));
  if (!parsed.success) return undefined;
  const [, action, subject, mediaId, ownerId] = parsed.data;
  return { action, subject, mediaId, ownerId };
}
