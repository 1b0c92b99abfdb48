import type { MediaView } from '../../src/app/bot-api.ts';

/**
 * The small line under generated pictures ("seed 123456 · comfyui"), so a user can ask for the same seed
 * again or compare two results. Pictures without generation facts (cut-outs, uploads) say nothing.
 * Discord's `-# ` is subtext: the line reads as a caption, not as part of the answer.
 */
export function seedLine(pictures: readonly MediaView[]): string | undefined {
  const made = pictures.filter((p) => p.generation !== undefined);
  const first = made[0]?.generation;
  if (!first) return undefined;
  if (made.length === 1) return `-# seed ${first.seed} · ${first.engine}`;
  // Numbered like the grid's corners, so "seed of 3" is read off without guessing.
  const seeds = made.map((p, i) => `${i + 1}: ${p.generation!.seed}`).join(', ');
  const engines = [...new Set(made.map((p) => p.generation!.engine))].join(', ');
  return `-# seeds ${seeds} · ${engines}`;
}

/** The attachment's alt text: what it is and, for a generated picture, its seed (screen readers read it). */
export function describeMedia(view: MediaView): string {
  const what = view.label ?? `${view.role} ${view.kind}`;
  return view.generation ? `${what} · seed ${view.generation.seed} · ${view.generation.engine}` : what;
}
