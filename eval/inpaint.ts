/**
 * Remove / inpaint: holes cut in real photos (a disc and a box, on fur and on a face), filled by every
 * inpainter ready here, compared inside the hole with the true pixels that were painted over (PSNR, SSIM).
 * SSIM inside the hole decides between inpainters (comparison `inpaint`): it rewards kept structure, where
 * PSNR alone favours a smooth smear.
 */
import path from 'node:path';
import sharp from 'sharp';
import { CHOICE_COMPARISONS } from '../src/vision/models/measured-quality.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import type { Mask } from '../src/vision/ops/raw-image.ts';
import { inpainterTitle, readyInpainters } from '../src/vision/models/inpainter-choice.ts';
import { evalContext, evalSettings, isFixture, maskOf, rawOf, TESTDATA } from './context.ts';
import { psnr, ssim } from './metrics.ts';
import { comparisonOf, type EvalReport, type EvalRow, type EvalSection } from './table.ts';

export const HOLE_SSIM = 'SSIM in hole';

interface Hole {
  what: string;
  photo: string;
  crop: { left: number; top: number; width: number; height: number };
  /** The hole as SVG shapes in the crop's coordinates. */
  shape: string;
}

const HOLES: readonly Hole[] = [
  {
    what: 'r=30 disc on fur (chelsea)',
    photo: 'chelsea.png',
    crop: { left: 120, top: 20, width: 256, height: 256 },
    shape: '<circle cx="150" cy="120" r="30"/>',
  },
  {
    what: '48×40 box on a cheek (astronaut)',
    photo: 'astronaut.png',
    crop: { left: 128, top: 40, width: 256, height: 256 },
    shape: '<rect x="60" y="70" width="48" height="40"/>',
  },
  {
    what: '64×64 box on the suit (astronaut)',
    photo: 'astronaut.png',
    crop: { left: 0, top: 256, width: 256, height: 256 },
    shape: '<rect x="96" y="96" width="64" height="64"/>',
  },
];

async function holeMask(hole: Hole): Promise<Mask> {
  const { width, height } = hole.crop;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="100%" height="100%" fill="#000"/><g fill="#fff">${hole.shape}</g></svg>`;
  return maskOf(await sharp(Buffer.from(svg)).png().toBuffer());
}

export const inpaintSection: EvalSection = {
  name: 'inpaint',
  async run(): Promise<EvalReport> {
    const settings = evalSettings();
    const models = new ModelRegistry({ settings });
    const context = await evalContext(settings, models);
    try {
      const cases = await Promise.all(
        HOLES.map(async (hole) => {
          const truth = await rawOf(await sharp(path.join(TESTDATA, hole.photo)).extract(hole.crop).png().toBuffer());
          const mask = await holeMask(hole);
          // The input has the hole painted red, so a way that leaves it unfilled scores as badly as it looks.
          const input = { ...truth, data: Buffer.from(truth.data) };
          for (let i = 0; i < mask.data.length; i++) if (mask.data[i]! >= 128) input.data.set([255, 0, 0, 255], i * 4);
          return { hole, truth, mask, input };
        }),
      );
      const rows: EvalRow[] = [];
      for (const ready of readyInpainters(models)) {
        let sumPsnr = 0;
        let sumSsim = 0;
        for (const c of cases) {
          const out = await ready.inpainter.inpaint(c.input, c.mask, context);
          sumPsnr += psnr(out, c.truth, c.mask);
          sumSsim += ssim(out, c.truth, c.mask);
        }
        rows.push({
          way: ready.name,
          on: `${cases.length} holes in real photos (${inpainterTitle(ready.inpainter)})`,
          metrics: { 'PSNR dB in hole': sumPsnr / cases.length, [HOLE_SSIM]: sumSsim / cases.length },
          ...((await isFixture(ready.inpainter.model, settings.MODELS_DIR)) ? { fixture: true } : {}),
        });
      }
      return {
        title: 'remove / inpaint: inside the hole against the true pixels painted over (mean of 3 holes)',
        rows,
        notes: HOLES.map((h) => `hole: ${h.what}`),
        comparisons: { [CHOICE_COMPARISONS.inpainter]: comparisonOf(rows, HOLE_SSIM, new Date().toISOString()) },
      };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
