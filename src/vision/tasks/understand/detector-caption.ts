import type { Box } from '../../../core/types.ts';
import { extractFrame } from '../../../media/ffmpeg.ts';
import { formatDuration } from '../../../media/limits.ts';
import { detect } from '../../find/detector.ts';
import { BLAZEFACE_MODEL, detectFaces } from '../../models/blazeface.ts';
import { CENTERNET_MODEL } from '../../models/centernet.ts';
import { LABEL_GROUPS } from '../../models/coco-labels.ts';
import type { ModelRegistry } from '../../models/model-registry.ts';
import { OCR_DET_MODEL } from '../../models/ocr-detect.ts';
import { OCR_REC_MODEL } from '../../models/ocr-recognize.ts';
import { resultBoxes } from '../../ops/detection.ts';
import type { Detection } from '../../ops/detection.ts';
import { decodeImage } from '../../ops/raw-image.ts';
import type { RawImage } from '../../ops/raw-image.ts';
import { sampleTimes } from '../../ops/video-frames.ts';
import type { LoadedMedia, ServingOption, SpecialistContext, SpecialistResult } from '../../specialist.ts';
import { findingsCaption } from './findings-words.ts';
import type { Findings, FindingsOf } from './findings-words.ts';
import { readText } from './ocr.ts';

/**
 * caption when no captioning model or endpoint is here: the detectors that ship with npm (CenterNet for
 * COCO objects, BlazeFace for faces, PP-OCR for text) say what they found, and the sentence says that this
 * is all it is. CenterNet is the gate (it answers "what is in it"); faces and text are added when their
 * models are installed too. A video is looked at on its middle frame: one frame is what these detectors
 * see, and the middle is least likely to be a fade.
 */

/** The way readiness and `models list` show: it runs, but is a stopgap until Florence-2 or LLM_URL. */
export const DETECTOR_CAPTION_WAY = {
  model: CENTERNET_MODEL,
  stopgap: 'lists the objects, faces and text the detectors found instead of describing the picture',
} as const satisfies ServingOption;

const ANIMALS: ReadonlySet<string> = new Set(LABEL_GROUPS.animal);

/** Whether a box's centre lies inside another box. */
function centreInside(inner: Box, outer: Box): boolean {
  const cx = (inner.x1 + inner.x2) / 2;
  const cy = (inner.y1 + inner.y2) / 2;
  return cx >= outer.x1 && cx <= outer.x2 && cy >= outer.y1 && cy <= outer.y2;
}

/**
 * The faces that are people's. BlazeFace is a human-face detector, yet it scores a cat's face above its
 * threshold (0.64 on chelsea.png): a face inside an animal's box and inside no person's box is the
 * animal's, and counting it would tell the user there is a person's face where there is none.
 */
export function peoplesFaces(faces: readonly Detection[], objects: readonly Detection[]): Detection[] {
  const animals = objects.filter((d) => ANIMALS.has(d.label));
  const people = objects.filter((d) => d.label === 'person');
  return faces.filter((f) => !animals.some((a) => centreInside(f, a)) || people.some((p) => centreInside(f, p)));
}

/** Runs every installed finder on one picture; boxes in its pixels. */
export async function findOnImage(models: ModelRegistry, image: RawImage, report: (fraction: number, note: string) => void): Promise<Findings> {
  report(0, 'looking for objects');
  const { detections: objects } = await detect(models, image, undefined, 'caption');
  report(0.4, 'looking for faces');
  const faces = models.isInstalled(BLAZEFACE_MODEL) ? peoplesFaces(await detectFaces(models, image), objects) : undefined;
  report(0.5, 'looking for text');
  const ocr = models.isInstalled(OCR_DET_MODEL) && models.isInstalled(OCR_REC_MODEL) ? await readText(models, image) : undefined;
  report(1, 'found');
  return {
    objects,
    ...(faces !== undefined ? { faces } : {}),
    ...(ocr !== undefined ? { text: ocr.lines.map((l) => l.text) } : {}),
    width: image.width,
    height: image.height,
  };
}

/** One target as the picture the finders look at: an image itself, or a video's middle frame (and when it is). */
async function pictureOf(media: LoadedMedia, context: SpecialistContext): Promise<{ image: RawImage; where?: string }> {
  if (media.info.kind !== 'video') return { image: await decodeImage(media.bytes, context.limits) };
  const [at = 0] = await sampleTimes(media, context, () => 1);
  const png = await extractFrame(context.ffmpeg, media.path, at, { tmpDir: context.tmpDir, signal: context.signal });
  return { image: await decodeImage(png, context.limits), where: `the video's middle frame (at ${formatDuration(at)})` };
}

/** The boxes of the findings, for clients that draw them (objects and faces). */
export function boxesOf(findings: Findings): Box[] {
  return resultBoxes([...findings.objects, ...(findings.faces ?? [])]);
}

/** The detector caption of every target (numbered when several), with the boxes found when there is one. */
export async function captionWithDetectors(media: readonly LoadedMedia[], detailed: boolean, context: SpecialistContext): Promise<SpecialistResult> {
  const said: FindingsOf[] = [];
  for (const [i, target] of media.entries()) {
    const report = (f: number, note: string) => context.progress((i + f) / media.length, note);
    report(0, target.info.kind === 'video' ? 'taking the middle frame' : 'preparing the image');
    const { image, where } = await pictureOf(target, context);
    const findings = await findOnImage(context.models, image, (f, note) => report(0.1 + 0.9 * f, note));
    said.push({ findings, ...(where !== undefined ? { where } : {}) });
  }
  context.progress(1, 'described');
  // Boxes are in one picture's pixels: with several targets they would not say which picture.
  const boxes = said.length === 1 ? boxesOf(said[0]!.findings) : [];
  return { media: [], text: findingsCaption(said, detailed), ...(boxes.length > 0 ? { boxes } : {}) };
}
