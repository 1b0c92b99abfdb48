/**
 * Cut-out (ISNet) and phrase segmentation ("the horse": detector box → mask): mask IoU against the horse's
 * real silhouette, on the horse alone and in a generated scene with a distractor where its exact mask is known.
 */
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { cutoutSpecialist } from '../src/vision/tasks/segment/cutout.ts';
import { segmentSpecialist } from '../src/vision/tasks/segment/segment.ts';
import type { Specialist } from '../src/vision/specialist.ts';
import { evalContext, evalSettings, mediaOf, resultMask } from './context.ts';
import { maskIoU } from './metrics.ts';
import { horseScene } from './scenes.ts';
import type { EvalReport, EvalRow, EvalSection } from './table.ts';

export const segmentationSection: EvalSection = {
  name: 'segmentation',
  async run(): Promise<EvalReport> {
    const settings = evalSettings();
    const models = new ModelRegistry({ settings });
    const context = await evalContext(settings, models);
    try {
      const scenes = [
        { what: 'horse.png silhouette, 400×328', ...(await horseScene(400, 328, { x: 0, y: 0, w: 400, h: 328 })) },
        { what: 'horse 240×197 + red disc, 640×480 scene', ...(await horseScene(640, 480, { x: 340, y: 230, w: 240, h: 197 }, { cx: 150, cy: 160, r: 70 })) },
      ];
      const ways: { way: string; specialist: Specialist; task: 'cutout' | 'segment'; args: Record<string, unknown> }[] = [
        { way: 'cutout (isnet)', specialist: cutoutSpecialist, task: 'cutout', args: {} },
        { way: 'segment "the horse"', specialist: segmentSpecialist, task: 'segment', args: { phrase: 'the horse' } },
      ];
      const rows: EvalRow[] = [];
      for (const way of ways) {
        for (const scene of scenes) {
          const result = await way.specialist.run({ task: way.task, media: [await mediaOf(scene.png, context)], args: way.args }, context);
          const mask = await resultMask(result, scene.truth.width, scene.truth.height);
          rows.push({ way: way.way, on: scene.what, metrics: { 'mask IoU': maskIoU(mask, scene.truth) } });
        }
      }
      return { title: 'cut-out and phrase segmentation: mask IoU against the real silhouette', rows, notes: [], comparisons: {} };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
