/**
 * `npm run bench -- animate`: a 5 s 720p camera move (the animate specialist, from the PNG to the MP4) against
 * ffmpeg encoding the same frames alone — the same path's frames, in the same pixel format (yuv420p), drawn
 * beforehand and held in memory, piped through the same encoder settings. The ratio is what decoding the
 * picture and drawing the frames add to encoding them; goal ≤ 1.3×.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { writeVideo } from '../src/media/ffmpeg.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { cameraPath } from '../src/vision/ops/camera-path.ts';
import { decodeImage } from '../src/vision/ops/raw-image.ts';
import { yuvCropper } from '../src/vision/ops/yuv-crop.ts';
import { animateSpecialist } from '../src/vision/tasks/video/animate.ts';
import { animateSize } from '../src/vision/tasks/video/animate-limits.ts';
import { benchContext, benchSettings, imageInput, TESTDATA } from './context.ts';
import { formatGoal, measureInterleaved, row, versus } from './measure.ts';
import type { BenchSection, Goal } from './measure.ts';

const SECONDS = 5;
const FPS = 24;
const GOAL = 1.3;

export const animateSection: BenchSection = {
  name: 'animate',
  async run(options) {
    // An empty MODELS_DIR: the plain camera move, not depth parallax.
    const settings = { ...benchSettings(), MODELS_DIR: path.join(os.tmpdir(), 'vitron-bench-no-models') };
    const models = new ModelRegistry({ settings });
    const context = await benchContext(settings, models);
    try {
      // The astronaut photo at 1080p, so the move is drawn from a picture larger than the 720p frame.
      const png = await sharp(path.join(TESTDATA, 'astronaut.png')).resize(1920, 1080, { fit: 'fill' }).png().toBuffer();
      const file = path.join(context.tmpDir, 'source.png');
      await fs.writeFile(file, png);
      const media = imageInput(png, 1920, 1080, file);
      const args = { motion: 'zoom_in', seconds: SECONDS, fps: FPS };

      // The frames our path draws, drawn once here from the same working picture, for the encoder alone.
      const size = animateSize(1920, 1080, context.limits);
      const working = await sharp(png)
        .resize(Math.round(size.width * 1.3), Math.round(size.height * 1.3), { fit: 'fill', kernel: 'lanczos3' })
        .raw()
        .toBuffer();
      const image = await decodeImage(
        await sharp(working, { raw: { width: Math.round(size.width * 1.3), height: Math.round(size.height * 1.3), channels: 3 } })
          .png()
          .toBuffer(),
        context.limits,
      );
      const cropper = yuvCropper(image, size.width, size.height);
      const frames = cameraPath(image.width, image.height, size.width / size.height, 'zoom_in', SECONDS * FPS).map((rect) => Buffer.from(cropper.draw(rect)));

      const [ours, encodeOnly] = await measureInterleaved(
        [
          {
            label: `camera move ${SECONDS} s ${size.width}×${size.height} @ ${FPS} fps`,
            fn: () => animateSpecialist.run({ task: 'animate', media: [media], args }, context),
          },
          {
            label: `ffmpeg encoding the same ${frames.length} frames`,
            fn: () => writeVideo(context.ffmpeg, frames, { ...size, fps: FPS, pixelFormat: 'yuv420p', tmpDir: context.tmpDir }),
          },
        ],
        options,
      );
      const ratio = ours!.medianMs / encodeOnly!.medianMs;
      const goals: Goal[] = [{ text: 'camera move / ffmpeg encoding alone', limit: GOAL, actual: ratio }];
      return {
        title: `animate: a ${SECONDS} s 720p camera move against encoding its frames alone`,
        lines: [
          row(ours!.label, ours, versus(ours!, encodeOnly!, 'encoding alone')),
          row(encodeOnly!.label, encodeOnly),
          `  per frame: ${(ours!.medianMs / frames.length).toFixed(1)} ms drawn and encoded, ${(encodeOnly!.medianMs / frames.length).toFixed(1)} ms encoded`,
          ...goals.map(formatGoal),
        ],
        goals,
      };
    } finally {
      await context.cleanup();
      await models.dispose();
    }
  },
};
