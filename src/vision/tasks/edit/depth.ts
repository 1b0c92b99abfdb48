import { UnsupportedMediaForTaskError } from '../../../errors.ts';
import { composeSideBySide } from '../../../media/image.ts';
import { DEPTH_MODEL, depthMap } from '../../models/depth-anything.ts';
import { missingModelError } from '../../models/missing-model.ts';
import { colourMap } from '../../ops/colour-map.ts';
import { decodeImage, encodePng, maskToPng } from '../../ops/raw-image.ts';
import type { Specialist } from '../../specialist.ts';

/** `depth`: a turbo colour map of Depth Anything's relative depth, the grey map, and a before/after. */
export const depthSpecialist: Specialist = {
  tasks: ['depth'],
  models: [DEPTH_MODEL],
  async run(input, context) {
    const media = input.media[0];
    if (media === undefined) throw new UnsupportedMediaForTaskError(input.task, 'nothing', ['image']);
    if (media.info.kind !== 'image') throw new UnsupportedMediaForTaskError(input.task, media.info.kind, ['image']);
    if (!context.models.isInstalled(DEPTH_MODEL)) throw missingModelError('depth', [], context.models, context.settings.MODELS_DIR);
    const image = await decodeImage(media.bytes, context.limits);
    context.progress(0.1, 'estimating depth');
    const grey = await depthMap(context.models, image, input.task);
    context.progress(0.8, 'colouring');
    const [colour, greyPng] = await Promise.all([
      encodePng(colourMap(grey, image.width, image.height)),
      maskToPng({ data: grey, width: image.width, height: image.height }),
    ]);
    const comparison = await composeSideBySide(media.bytes, colour, { labels: ['photo', 'depth'], limits: context.limits });
    return {
      text: 'Estimated the depth with Depth Anything V2 (small): red is near, dark blue is far (relative, not in metres).',
      media: [
        { bytes: colour, kind: 'image', mime: 'image/png', role: 'result', label: 'depth map' },
        { bytes: comparison, kind: 'image', mime: 'image/png', role: 'comparison', label: 'photo / depth' },
        { bytes: greyPng, kind: 'image', mime: 'image/png', role: 'mask', label: 'depth (grey, white = near)' },
      ],
    };
  },
};
