import type { Box } from '../../core/types.ts';
import type { Task } from '../../core/tasks.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import type { RawImage } from '../ops/raw-image.ts';
import type { Point } from '../models/florence-parse.ts';
import { runFlorence } from '../models/florence.ts';
import type { Detection } from '../ops/detection.ts';
import { suppressOverlaps } from '../ops/nms.ts';
import { queryOf } from '../models/owlvit.ts';

/**
 * Boxes for a phrase no COCO label covers, through Florence-2's open-vocabulary detection, for machines
 * that pulled Florence-2 (for captions) but not OWL-ViT. Florence-2 writes boxes without confidences: every
 * box it writes is an answer, so each gets score 1 and `unscored` (shown without a number).
 */

/** Florence-2 sometimes writes the same object twice, a box or two bins apart. */
const DUPLICATE_IOU = 0.8;

function boundsOf(points: readonly Point[]): Box | undefined {
  if (points.length < 3) return undefined;
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return { x1: Math.min(...xs), y1: Math.min(...ys), x2: Math.max(...xs), y2: Math.max(...ys) };
}

/** The box inside the image, or undefined when nothing of it is left. */
function clamp(box: Box, image: RawImage): Box | undefined {
  const x1 = Math.max(0, Math.min(image.width, box.x1));
  const x2 = Math.max(0, Math.min(image.width, box.x2));
  const y1 = Math.max(0, Math.min(image.height, box.y1));
  const y2 = Math.max(0, Math.min(image.height, box.y2));
  return x2 - x1 >= 1 && y2 - y1 >= 1 ? { x1, y1, x2, y2 } : undefined;
}

/** "the red umbrellas on the left" → boxes labelled "red umbrella" (referring words are applied afterwards). */
export async function detectWithFlorence(models: ModelRegistry, image: RawImage, phrase: string, task?: Task, signal?: AbortSignal): Promise<Detection[]> {
  const { label } = queryOf(phrase);
  const result = await runFlorence(models, image, '<OPEN_VOCABULARY_DETECTION>', label, signal, { task });
  const parsed = result.parsed;
  // The model answers in boxes, or (for things it outlines) in polygons, whose bounds are the box.
  const boxes: (Box | undefined)[] =
    parsed.kind === 'boxes' ? parsed.boxes : parsed.kind === 'polygons' ? parsed.instances.map((i) => boundsOf(i.polygons.flat())) : [];
  const detections: Detection[] = [];
  for (const box of boxes) {
    const inside = box === undefined ? undefined : clamp(box, image);
    if (inside !== undefined) detections.push({ ...inside, label, score: 1, unscored: true });
  }
  return suppressOverlaps(detections, DUPLICATE_IOU, DUPLICATE_IOU);
}
