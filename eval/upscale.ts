/**
 * Upscale ×2 ×3 ×4: each real photo is shrunk by the factor (sharp, Lanczos), enlarged back by every
 * upscaler ready here and by plain bicubic, and compared with the original it came from (PSNR, SSIM).
 * PSNR decides between upscalers (comparison `upscale-x<factor>`).
 */
import path from 'node:path';
import sharp from 'sharp';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { CHOICE_COMPARISONS } from '../src/vision/models/measured-quality.ts';
import { readyUpscalers } from '../src/vision/models/upscaler-choice.ts';
import { evalContext, evalSettings, isFixture, rawOf, TESTDATA } from './context.ts';
import { psnr, ssim } from './metrics.ts';
import { comparisonOf, type EvalReport, type EvalRow, type EvalSection } from './table.ts';

const FACTORS = [2, 3, 4] as const;
/** Sizes divisible by 2, 3 and 4, so every factor gives back the original's exact size. */
const PHOTOS = [
  { name: 'astronaut.png', width: 480, height: 480 },
  { name: 'chelsea.png', width: 444, height: 300 },
];
export const PSNR = 'PSNR dB';

export const upscaleSection: EvalSection = {
  name: 'upscale',
  async run(): Promise<EvalReport> {
    const settings = evalSettings();
    const models = new ModelRegistry({ settings });
    const context = await evalContext(settings, models);
    const rows: EvalRow[] = [];
    const comparisons: EvalReport['comparisons'] = {};
    const measuredAt = new Date().toISOString();
    try {
      const originals = await Promise.all(
        PHOTOS.map(async (p) => ({ ...p, png: await sharp(path.join(TESTDATA, p.name)).resize(p.width, p.height, { fit: 'cover' }).png().toBuffer() })),
      );
      for (const factor of FACTORS) {
        const ways: { name: string; fixture: boolean; enlarge(small: Buffer, w: number, h: number): Promise<Buffer> }[] = [
          {
            name: 'bicubic (sharp)',
            fixture: false,
            enlarge: (small, w, h) => sharp(small).resize(w, h, { kernel: 'cubic' }).png().toBuffer(),
          },
        ];
        for (const ready of readyUpscalers(models, factor)) {
          ways.push({
            name: ready.name,
            fixture: await isFixture(ready.upscaler.model, settings.MODELS_DIR),
            async enlarge(small) {
              const out = await ready.upscaler.upscale(await rawOf(small), factor, context);
              return sharp(out.data, { raw: { width: out.width, height: out.height, channels: out.channels } })
                .png()
                .toBuffer();
            },
          });
        }
        const factorRows: EvalRow[] = [];
        for (const way of ways) {
          let sumPsnr = 0;
          let sumSsim = 0;
          for (const photo of originals) {
            const small = await sharp(photo.png)
              .resize(photo.width / factor, photo.height / factor, { kernel: 'lanczos3' })
              .png()
              .toBuffer();
            const truth = await rawOf(photo.png);
            const out = await rawOf(await way.enlarge(small, photo.width, photo.height));
            sumPsnr += psnr(out, truth);
            sumSsim += ssim(out, truth);
          }
          factorRows.push({
            way: way.name,
            on: `×${factor}: astronaut, chelsea shrunk ×${factor} and back`,
            metrics: { [PSNR]: sumPsnr / originals.length, SSIM: sumSsim / originals.length },
            ...(way.fixture ? { fixture: true } : {}),
          });
        }
        rows.push(...factorRows);
        // Bicubic is the reference, not a way the bot upscales with: it stays out of the choice.
        comparisons[CHOICE_COMPARISONS.upscaler(factor)] = comparisonOf(
          factorRows.filter((r) => !r.way.startsWith('bicubic')),
          PSNR,
          measuredAt,
        );
      }
      return { title: 'upscale: PSNR and SSIM against the original, next to bicubic (mean of 2 photos)', rows, notes: [], comparisons };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
