import { InvalidArgumentError, JobCancelledError, MediaLimitError } from '../../errors.ts';
import { probe, readFrames, writeVideo } from '../../media/ffmpeg.ts';
import type { RawImage } from './raw-image.ts';
import type { LoadedMedia, SpecialistContext } from '../specialist.ts';

/** Work on one decoded frame (RGBA); may change the size, but must give every frame the same size. */
export type FrameOp = (frame: RawImage, index: number) => Promise<RawImage>;

export interface MappedVideo {
  bytes: Buffer;
  frames: number;
  width: number;
  height: number;
  fps: number;
}

/** RGB → RGBA with an opaque alpha: ffmpeg is fed one pixel format only. */
export function ensureRgba(image: RawImage): RawImage {
  if (image.channels === 4) return image;
  if (image.channels !== 3) throw new InvalidArgumentError(`A video frame must have 3 or 4 channels, not ${image.channels}.`);
  const n = image.width * image.height;
  const out = Buffer.allocUnsafe(n * 4);
  const src = image.data;
  for (let i = 0, s = 0, o = 0; i < n; i++, s += 3, o += 4) {
    out[o] = src[s]!;
    out[o + 1] = src[s + 1]!;
    out[o + 2] = src[s + 2]!;
    out[o + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height, channels: 4 };
}

/**
 * Decode → per-frame work in memory → encode, as one stream: frames go from ffmpeg's stdout through `op`
 * into the encoder's stdin, never through files, and ffmpeg waits while a frame is being worked on.
 * The audio track of the source is kept.
 */
export async function mapVideoFrames(video: LoadedMedia, op: FrameOp, context: SpecialistContext, what: string): Promise<MappedVideo> {
  const { ffmpeg, signal } = context;
  let { width, height, fps, frameCount, hasAudio } = video.info;
  if (!fps || !width || !height || hasAudio === undefined) {
    const facts = await probe(ffmpeg, video.path, { signal });
    width = facts.width;
    height = facts.height;
    fps = facts.fps;
    frameCount = facts.frameCount;
    hasAudio = facts.hasAudio;
  }
  if (!fps) throw new InvalidArgumentError('This video has no frame rate that ffmpeg can read, so its frames cannot be processed one by one.');
  if (frameCount !== undefined && frameCount > context.limits.maxVideoFrames) {
    throw new MediaLimitError('The video', `${context.limits.maxVideoFrames} frames`, `${frameCount} frames`);
  }
  const total = frameCount ?? 0;
  const source = readFrames(ffmpeg, video.path, { width, height, signal });
  let done = 0;
  let outSize: { width: number; height: number } | undefined;

  const processOne = async (data: Buffer): Promise<RawImage> => {
    if (signal.aborted) throw new JobCancelledError();
    const out = ensureRgba(await op({ data, width, height, channels: 4 }, done));
    if (outSize && (out.width !== outSize.width || out.height !== outSize.height)) {
      throw new InvalidArgumentError(`Frame ${done} came out ${out.width} × ${out.height}, not ${outSize.width} × ${outSize.height} like the first.`);
    }
    done += 1;
    context.progress(total > 0 ? Math.min(1, done / total) : 0, `${what}: frame ${done}${total > 0 ? ` of ${total}` : ''}`);
    return out;
  };

  try {
    // The output size is only known once the first frame has been through `op`; the encoder starts after it.
    const first = await source.next();
    if (first.done) throw new InvalidArgumentError('The video has no frames to process.');
    const firstOut = await processOne(first.value);
    outSize = { width: firstOut.width, height: firstOut.height };
    async function* processed(): AsyncGenerator<Buffer> {
      yield firstOut.data;
      for (;;) {
        const next = await source.next();
        if (next.done) return;
        yield (await processOne(next.value)).data;
      }
    }
    const bytes = await writeVideo(ffmpeg, processed(), {
      width: outSize.width,
      height: outSize.height,
      fps,
      audioFrom: hasAudio ? video.path : undefined,
      tmpDir: context.tmpDir,
      signal,
    });
    return { bytes, frames: done, width: outSize.width - (outSize.width % 2), height: outSize.height - (outSize.height % 2), fps };
  } finally {
    await source.return(undefined);
  }
}
