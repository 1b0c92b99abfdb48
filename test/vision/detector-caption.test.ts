import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Detection } from '../../src/vision/ops/detection.ts';
import type { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { createTaskReadiness, readiness } from '../../src/vision/readiness.ts';
import { captionSpecialist } from '../../src/vision/tasks/understand/caption-answer.ts';
import { peoplesFaces } from '../../src/vision/tasks/understand/detector-caption.ts';
import { findingsCaption } from '../../src/vision/tasks/understand/findings-words.ts';
import type { Findings } from '../../src/vision/tasks/understand/findings-words.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, videoMedia } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { textImage } from './fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

/**
 * caption on a fresh install: no Florence-2, no LLM_URL. The answer is what the npm-shipped detectors found,
 * said as such. The references are the photos' known content (testdata/README.md: astronaut.png is one
 * person, chelsea.png a cat, horse.png a horse) and text this test renders itself.
 */

const HEAVY = { timeout: 180_000 };
const OPENING = 'I have no captioning model here, so this is what my detectors found';

const box = (label: string, x1: number, y1: number, x2: number, y2: number, score = 0.8): Detection => ({ label, x1, y1, x2, y2, score });
const findings = (over: Partial<Findings>): Findings => ({ objects: [], faces: [], text: [], width: 600, height: 400, ...over });

describe('the words of a detector caption (no model)', () => {
  it('counts what was found, with "a" for one and the number for more, and quotes the text', () => {
    const said = findingsCaption([
      {
        findings: findings({
          objects: [box('person', 0, 0, 100, 300), box('dog', 300, 200, 400, 300), box('person', 120, 0, 220, 300)],
          text: ['OPEN'],
        }),
      },
    ]);
    expect(said).toBe(`${OPENING}: 2 people and a dog; the text reads "OPEN".`);
  });

  it('uses "an" before a vowel and lists three kinds with commas', () => {
    const said = findingsCaption([{ findings: findings({ objects: [box('umbrella', 0, 0, 9, 9), box('cat', 20, 0, 29, 9), box('car', 40, 0, 49, 9)] }) }]);
    expect(said).toBe(`${OPENING}: a car, a cat and an umbrella.`);
  });

  it('folds faces into the people, and names faces alone when no person was boxed', () => {
    const person = box('person', 0, 0, 300, 400);
    const face = box('face', 100, 50, 180, 150);
    expect(findingsCaption([{ findings: findings({ objects: [person], faces: [face] }) }])).toBe(`${OPENING}: a person (a face in view).`);
    expect(findingsCaption([{ findings: findings({ faces: [face, box('face', 300, 50, 380, 150)] }) }])).toBe(`${OPENING}: 2 faces.`);
  });

  it('says plainly when nothing was found, naming only the finders that looked', () => {
    expect(findingsCaption([{ findings: findings({}) }])).toBe(
      'I have no captioning model here, and my detectors found nothing they can name in this picture (they look for people, animals, vehicles and about 80 kinds of everyday objects, faces and printed text).',
    );
    // No OCR and no face finder installed: the sentence does not claim they looked.
    const bare = findingsCaption([{ findings: { objects: [], width: 10, height: 10 } }]);
    expect(bare).toMatch(/they look for people, animals, vehicles and about 80 kinds of everyday objects\)\.$/);
    expect(bare).not.toMatch(/faces|text/);
  });

  it('says text found without objects as such, and cuts a long text short', () => {
    expect(findingsCaption([{ findings: findings({ text: ['OPEN', '9 TO 5'] }) }])).toBe(
      `${OPENING}: nothing they can name, but the text reads "OPEN / 9 TO 5".`,
    );
    const long = findingsCaption([{ findings: findings({ text: ['word '.repeat(100)] }) }]);
    expect(long.length).toBeLessThan(300);
    expect(long).toMatch(/…"\.$/);
  });

  it('numbers several pictures, and says where things are when a detailed caption is asked for', () => {
    const several = findingsCaption([
      { findings: findings({ objects: [box('cat', 0, 0, 50, 50)] }) },
      { findings: findings({}), where: "the video's middle frame (at 0:02)" },
    ]);
    expect(several).toBe(`${OPENING}:\n1. a cat.\n2. the video's middle frame (at 0:02): nothing they can name.`);
    const detailed = findingsCaption([{ findings: findings({ objects: [box('cat', 450, 300, 590, 390), box('person', 10, 10, 150, 390)] }) }], true);
    expect(detailed).toBe(`${OPENING}: a cat and a person. Where: person on the left; cat on the right, lower half.`);
  });
});

describe('faces that are people', () => {
  it("drops a face inside an animal's box (BlazeFace fires on cat faces), keeps a person's and a lone one", () => {
    const cat = box('cat', 0, 0, 200, 200);
    const person = box('person', 300, 0, 500, 400);
    const catFace = box('face', 50, 50, 120, 120);
    const personFace = box('face', 350, 20, 420, 100);
    const lone = box('face', 520, 20, 580, 100);
    expect(peoplesFaces([catFace, personFace, lone], [cat, person])).toEqual([personFace, lone]);
    // A person holding a cat: the face in both boxes is the person's.
    const held = box('face', 60, 10, 110, 60);
    expect(peoplesFaces([held], [cat, box('person', 0, 0, 210, 400)])).toEqual([held]);
  });
});

describe('caption without a captioning model (real CenterNet, BlazeFace and PP-OCR weights)', () => {
  let models: ModelRegistry;
  let context: TestContext;
  const photo = (name: string) => fs.readFile(testdata(name));
  const caption = async (png: Buffer, args: Record<string, unknown> = {}) =>
    captionSpecialist.run(invocation('caption', await imageMedia(context, png, `p${Math.random().toString(36).slice(2)}.png`), args), context);

  beforeAll(async () => {
    models = testRegistry().models;
    context = await makeSpecialistContext({ models });
    await models.graphModel('centernet-coco');
  }, 180_000);
  afterAll(async () => {
    await models.dispose();
    await context.cleanup();
  });

  it('is ready on a fresh install, and readiness tells the operator how to get real captions', () => {
    expect(context.settings.LLM_URL).toBeUndefined();
    expect(models.isInstalled('florence-2-base')).toBe(false);
    expect(() => createTaskReadiness(context.settings).check('caption', ['image', 'video'])).not.toThrow();
    const status = readiness(models, context.settings).tasks.find((t) => t.task === 'caption')!;
    expect(status.ready).toBe(true);
    expect(status.operatorHint).toMatch(/detectors found/);
    expect(status.operatorHint).toContain('npm run models -- pull florence-2-base');
    expect(status.operatorHint).toMatch(/LLM_URL/);
    // answer keeps needing a chat model.
    expect(readiness(models, context.settings).tasks.find((t) => t.task === 'answer')!.ready).toBe(false);
  });

  photos.it(`astronaut.png: one person, with the face in view`, HEAVY, async () => {
    const result = await caption(await photo('astronaut.png'));
    expect(result.text).toBe(`${OPENING}: a person (a face in view).`);
    expect(result.boxes!.map((b) => b.label).sort()).toEqual(['face', 'person']);
  });

  photos.it(`chelsea.png: a cat, and no person's face`, HEAVY, async () => {
    const result = await caption(await photo('chelsea.png'));
    expect(result.text).toBe(`${OPENING}: a cat.`);
  });

  photos.it(`horse.png: a horse`, HEAVY, async () => {
    expect((await caption(await photo('horse.png'))).text).toBe(`${OPENING}: a horse.`);
  });

  photos.it(`two astronauts side by side: 2 people`, HEAVY, async () => {
    const astronaut = await photo('astronaut.png');
    const pair = await sharp({ create: { width: 1024, height: 512, channels: 3, background: '#000000' } })
      .composite([
        { input: astronaut, left: 0, top: 0 },
        { input: await sharp(astronaut).flop().png().toBuffer(), left: 512, top: 0 },
      ])
      .png()
      .toBuffer();
    expect((await caption(pair)).text).toBe(`${OPENING}: 2 people (2 faces in view).`);
    // One region of it: only what is in the box.
    const region = await caption(pair, { box: [0, 0, 511, 511] });
    expect(region.text).toBe(`In the box 0,0,511,511: ${OPENING}: a person (a face in view).`);
  });

  it('reads rendered text and says nothing else was found', HEAVY, async () => {
    const result = await caption(await textImage(['OPEN']));
    expect(result.text).toBe(`${OPENING}: nothing they can name, but the text reads "OPEN".`);
  });

  photos.it(`a person, a cat and a sign in one picture, with where they are when asked in detail`, HEAVY, async () => {
    const scene = await sharp({ create: { width: 1400, height: 512, channels: 3, background: '#ffffff' } })
      .composite([
        { input: await photo('astronaut.png'), left: 0, top: 0 },
        { input: await photo('chelsea.png'), left: 520, top: 0 },
        { input: await textImage(['OPEN'], 400, 100, 56), left: 980, top: 350 },
      ])
      .png()
      .toBuffer();
    const result = await caption(scene, { detail: 'detailed' });
    expect(result.text).toMatch(new RegExp(`^${OPENING}: a cat and a person \\(a face in view\\); the text reads "OPEN"\\. Where: `));
    expect(result.text).toMatch(/person on the left/);
  });

  it('says plainly when there is nothing to name', HEAVY, async () => {
    const blank = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#ffffff' } })
      .png()
      .toBuffer();
    const result = await caption(blank);
    expect(result.text).toMatch(/^I have no captioning model here, and my detectors found nothing they can name in this picture \(they look for /);
    expect(result.boxes).toBeUndefined();
  });

  photos.it(`looks at a video's middle frame, and says so`, HEAVY, async () => {
    const clip = path.join(context.tmpDir, 'cat.mp4');
    // Two seconds of the cat photo (scaled to even sides for H.264): the middle frame is at 1 s.
    await promisify(execFile)('ffmpeg', [
      '-hide_banner',
      '-loglevel',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      testdata('chelsea.png'),
      '-t',
      '2',
      '-r',
      '10',
      '-vf',
      'scale=450:300',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    const result = await captionSpecialist.run(invocation('caption', await videoMedia(context, clip)), context);
    expect(result.text).toBe(`${OPENING} in the video's middle frame (at 1 s): a cat.`);
  });
});
