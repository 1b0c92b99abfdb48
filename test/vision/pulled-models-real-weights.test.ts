import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { lamaInpainter } from '../../src/vision/models/lama.ts';
import { miganInpainter } from '../../src/vision/models/migan.ts';
import { swin2srUpscaler } from '../../src/vision/models/swin2sr.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { depthSpecialist } from '../../src/vision/tasks/edit/depth.ts';
import { noiseImage } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import { compareAroundHole, discMask, texturedImage } from './pulled-models-fixtures.ts';

/**
 * Real pulled weights, when an operator has them in MODELS_DIR (the default DATA_DIR/models, or the
 * environment's): each skips with the reason when its model is absent, which is always the case in CI.
 */
describe('pulled models with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const real = new ModelRegistry({ settings });
  const has = (name: string) => real.isInstalled(name);
  const why = (name: string) => (has(name) ? '' : ` (skipped: ${name} is not in ${settings.MODELS_DIR}; npm run models -- pull ${name})`);

  afterAll(() => real.dispose());

  for (const name of ['migan', 'lama'] as const) {
    it.skipIf(!has(name))(
      `${name} fills a hole and leaves the rest as it was${why(name)}`,
      async () => {
        const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
        try {
          const image = await texturedImage(320, 240);
          const mask = discMask(320, 240, 160, 120, 40);
          const out = await (name === 'migan' ? miganInpainter : lamaInpainter).inpaint(image, mask, context);
          const diff = compareAroundHole(image, out, mask);
          expect(diff.changedOutside).toBe(0);
          expect(diff.meanChangeInside).toBeGreaterThan(2);
        } finally {
          await context.cleanup();
        }
      },
      180_000,
    );
  }

  it.skipIf(!has('swin2sr-x2'))(
    `swin2sr-x2 doubles an image${why('swin2sr-x2')}`,
    async () => {
      const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
      try {
        const out = await swin2srUpscaler.upscale(await texturedImage(64, 48), 2, context);
        expect([out.width, out.height]).toEqual([128, 96]);
      } finally {
        await context.cleanup();
      }
    },
    180_000,
  );

  it.skipIf(!has('depth-anything-v2-small'))(
    `depth-anything-v2-small answers a colour map of the image size${why('depth-anything-v2-small')}`,
    async () => {
      const context = await makeSpecialistContext({ models: real, env: { MODELS_DIR: settings.MODELS_DIR } });
      try {
        const png = await noiseImage(120, 90);
        const result = await depthSpecialist.run(invocation('depth', await imageMedia(context, png)), context);
        const meta = await sharp(result.media[0]!.bytes).metadata();
        expect([meta.width, meta.height]).toEqual([120, 90]);
      } finally {
        await context.cleanup();
      }
    },
    180_000,
  );
});
