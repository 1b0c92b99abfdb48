/**
 * Detection, faces and the privacy blur, against boxes measured by hand on the real photos (eval/scenes.ts)
 * and recall on a generated scene where the photos were pasted at known places. The blur is judged by the
 * fine detail left in the hand-measured face box, not by the detector that chose where to blur.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import type { Box } from '../src/core/types.ts';
import { detectFaces } from '../src/vision/models/blazeface.ts';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import { adjustSpecialist } from '../src/vision/tasks/edit/adjust.ts';
import { detectSpecialist } from '../src/vision/tasks/understand/detect.ts';
import { evalContext, evalSettings, mediaOf, rawOf, TESTDATA } from './context.ts';
import { boxIoU, highFrequencyEnergy, recall } from './metrics.ts';
import { ASTRONAUT_FACE, ASTRONAUT_PERSON, CHELSEA_CAT, pastedScene } from './scenes.ts';
import type { EvalReport, EvalRow, EvalSection } from './table.ts';

/** The best IoU of a found box of this label with the truth (0 when none has the label). */
function bestIoU(found: readonly Box[], truth: Box, label: string): number {
  return Math.max(0, ...found.filter((b) => b.label === label).map((b) => boxIoU(b, truth)));
}

/** A box of the flag beside the astronaut, far from her face: the blur must leave it as it was. */
const ASTRONAUT_WALL: Box = { x1: 5, y1: 160, x2: 60, y2: 260 };

export const detectionSection: EvalSection = {
  name: 'detection',
  async run(): Promise<EvalReport> {
    const settings = evalSettings();
    const models = new ModelRegistry({ settings });
    const context = await evalContext(settings, models);
    try {
      const astronautPng = await fs.readFile(path.join(TESTDATA, 'astronaut.png'));
      const chelseaPng = await fs.readFile(path.join(TESTDATA, 'chelsea.png'));
      const detect = async (png: Buffer) =>
        (await detectSpecialist.run({ task: 'detect', media: [await mediaOf(png, context)], args: {} }, context)).boxes ?? [];
      const onAstronaut = await detect(astronautPng);
      const onChelsea = await detect(chelseaPng);
      const scene = await pastedScene();
      const onScene = await detect(scene.png);
      const astronaut = await rawOf(astronautPng);
      const faces = await detectFaces(models, astronaut);
      const sceneFaces = await detectFaces(models, await rawOf(scene.png));
      const rows: EvalRow[] = [
        { way: 'centernet-coco', on: 'astronaut.png: person, hand-measured box', metrics: { IoU: bestIoU(onAstronaut, ASTRONAUT_PERSON, 'person') } },
        { way: 'centernet-coco', on: 'chelsea.png: cat, hand-measured box', metrics: { IoU: bestIoU(onChelsea, CHELSEA_CAT, 'cat') } },
        {
          way: 'centernet-coco',
          on: 'pasted scene: person + cat at known places',
          metrics: { 'recall@0.5': recall(onScene, scene.objects), found: onScene.length },
        },
        { way: 'blazeface', on: 'astronaut.png: face, hand-measured box', metrics: { IoU: Math.max(0, ...faces.map((f) => boxIoU(f, ASTRONAUT_FACE))) } },
        { way: 'blazeface', on: 'pasted scene: face at half size', metrics: { 'recall@0.5': recall(sceneFaces, scene.faces), found: sceneFaces.length } },
      ];
      const blurred = await adjustSpecialist.run(
        { task: 'adjust', media: [await mediaOf(astronautPng, context)], args: { phrase: 'faces', blur: 12 } },
        context,
      );
      const out = await rawOf(blurred.media.find((m) => m.role === 'result')!.bytes);
      rows.push({
        way: 'adjust: blur the faces',
        on: 'astronaut.png: detail left (Laplacian energy vs original)',
        metrics: {
          'in face box': highFrequencyEnergy(out, ASTRONAUT_FACE) / highFrequencyEnergy(astronaut, ASTRONAUT_FACE),
          'on the flag': highFrequencyEnergy(out, ASTRONAUT_WALL) / highFrequencyEnergy(astronaut, ASTRONAUT_WALL),
        },
      });
      return {
        title: 'detection and faces: IoU against hand-measured boxes, recall on a pasted scene; privacy blur by detail left',
        rows,
        notes: ['blur: 0 in the face box = no detail left; 1 on the flag = untouched'],
        comparisons: {},
      };
    } finally {
      await models.dispose();
      await context.cleanup();
    }
  },
};
