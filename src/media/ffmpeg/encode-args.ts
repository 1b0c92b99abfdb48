/**
 * The output settings every chat platform plays inline: H.264 High in yuv420p with even dimensions,
 * AAC audio, and the index at the front (+faststart) so playback starts before the download ends.
 */
export const EVEN_DIMENSIONS = 'crop=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1';

export function h264Args(crf = 20): string[] {
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', String(crf), '-pix_fmt', 'yuv420p', '-movflags', '+faststart'];
}

export const AAC_ARGS: readonly string[] = ['-c:a', 'aac', '-b:a', '128k'];
