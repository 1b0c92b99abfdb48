import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { SD_TURBO_MODELS, createSdTurboEngine } from '../../src/vision/engines/sd-turbo.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';

/**
 * SD-Turbo with real weights, when an operator has an export in MODELS_DIR: skips with the reason otherwise
 * (always the case in CI, where the hub is unreachable). One 512² picture in 1 step: it must not be a flat or
 * noise-grey field, and the same seed must give the same bytes.
 */
describe('SD-Turbo with real weights (MODELS_DIR)', () => {
  const settings = loadSettings();
  const models = new ModelRegistry({ settings });
  const installed = SD_TURBO_MODELS[models.executionProvider].find((name) => models.isInstalled(name));
  afterAll(() => models.dispose());

  it.skipIf(installed === undefined)(
    `draws 512² in one step, reproducibly${installed ? ` (${installed})` : ` (skipped: no SD-Turbo export in ${settings.MODELS_DIR}; npm run models -- pull sd-turbo)`}`,
    async () => {
      const engine = createSdTurboEngine(models);
      const request = {
        operation: 'text-to-image',
        task: 'generate_image',
        prompt: 'a red fox in the snow',
        seed: 3,
        width: 512,
        height: 512,
        count: 1,
      } as const;
      const callbacks = { progress: () => {}, signal: new AbortController().signal };
      const first = await engine.generate(request, callbacks);
      const again = await engine.generate(request, callbacks);
      expect(first.images[0]!.png.equals(again.images[0]!.png)).toBe(true);
      const stats = await sharp(first.images[0]!.png).stats();
      for (const channel of stats.channels.slice(0, 3)) expect(channel.stdev).toBeGreaterThan(10);
    },
    600_000,
  );
});
