/** "with comfyui:text_to_video.json on comfyui (seed 7, 20 steps)": how a reply names what made a clip. */
export function madeWithParts(model: string, engine: string, seed: number, steps?: number): string {
  const stepText = steps === undefined ? '' : `, ${steps} step${steps === 1 ? '' : 's'}`;
  return `with ${model} on ${engine} (seed ${seed}${stepText})`;
}
