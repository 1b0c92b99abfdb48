import type { MediaKind, PlanContext } from '../core/types.ts';

/**
 * Example requests shown when the bot did not understand or is waiting for an instruction. Each one
 * is a phrasing the baseline planner itself understands in that situation (the tests check this), so
 * a user who copies a suggestion always gets a result.
 */
const FOR_IMAGE = ['describe it', 'remove the background', 'make it black and white', 'how many people are there?'];
const FOR_VIDEO = ['trim it to the first 5 seconds', 'make it a gif', 'play it backwards', 'what happens in the video?'];
const WITHOUT_MEDIA = ['draw a red fox in the snow', 'make a video of waves on a beach', 'help'];
/** After a grid: its pictures are what the user is looking at. */
const FOR_BATCH = ['upscale the first one', 'give me variations of the second one', 'new seed', 'describe the last one'];

/** The kind a suggestion should fit: what was just attached, else what "it" is, else whatever there is. */
export function focusKind(context: PlanContext): MediaKind | undefined {
  return context.attachments[0] ?? context.currentKind ?? (context.hasVideo ? 'video' : context.hasImage ? 'image' : undefined);
}

export function suggestionsFor(context: PlanContext): string[] {
  const kind = focusKind(context);
  if (context.attachments.length === 0 && (context.lastBatch ?? 0) >= 2) return [...FOR_BATCH];
  if (kind === 'image') return [...FOR_IMAGE];
  if (kind === 'video') return [...FOR_VIDEO];
  return [...WITHOUT_MEDIA, 'upload an image and ask "what is in this picture?"'];
}

export function formatSuggestions(suggestions: readonly string[]): string {
  return `You could try: ${suggestions.map((s) => (s.includes('"') ? s : `"${s}"`)).join(', ')}.`;
}
