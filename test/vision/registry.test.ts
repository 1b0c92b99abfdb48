import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TASKS, factsOf, isSessionTask } from '../../src/core/tasks.ts';
import type { Task } from '../../src/core/tasks.ts';
import { ModelNotInstalledError, TaskNotAvailableError } from '../../src/errors.ts';
import { createTaskReadiness, readiness } from '../../src/vision/readiness.ts';
import { createSpecialists, specialistFor } from '../../src/vision/registry.ts';
import { CATALOG } from '../../models/catalog.ts';
import { modelsForTask } from '../../src/vision/models/model-choice.ts';

/** The task table's preferred model of each task that names one. */
const PREFERRED_MODEL = Object.fromEntries(
  TASKS.flatMap((t) => {
    const model = factsOf(t).preferredModel;
    return model === undefined ? [] : [[t, model]];
  }),
) as Partial<Record<Task, string>>;
import { imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';
import type { TestContext } from '../helpers/specialist-context.ts';

describe('specialist registry', () => {
  let context: TestContext;
  beforeAll(async () => {
    context = await makeSpecialistContext();
  });
  afterAll(async () => {
    await context.models.dispose();
    await context.cleanup();
  });

  it('has a specialist for every task except the session ones', () => {
    const map = createSpecialists();
    for (const task of TASKS) expect(map.has(task), task).toBe(!isSessionTask(task));
    expect(specialistFor('undo')).toBeUndefined();
    expect(specialistFor('cutout')!.models).toEqual(['isnet']);
  });

  it('every catalogued task has a preferred model that is in the catalog and serves it', () => {
    for (const [task, name] of Object.entries(PREFERRED_MODEL) as [Task, string][]) {
      const entry = CATALOG.find((e) => e.name === name);
      expect(entry, `${task} → ${name}`).toBeDefined();
      expect(entry!.tasks).toContain(task);
      expect(modelsForTask(task)[0]!.name).toBe(name);
    }
  });

  it.each(['segment_at', 'segment_all', 'depth'] as const)(
    '%s without weights throws ModelNotInstalledError naming the model, never a fake result',
    async (task) => {
      const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
        .png()
        .toBuffer();
      const media = await imageMedia(context, png);
      const error = await specialistFor(task)!
        .run(invocation(task, media), context)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelNotInstalledError);
      const e = error as ModelNotInstalledError;
      expect(e.modelName).toBe(PREFERRED_MODEL[task]);
      expect(e.code).toBe('MODEL_NOT_INSTALLED');
      expect(e.retryable).toBe(false);
      // The chat hears that the server cannot do it; the model and the command are the operator's.
      expect(e.message).toMatch(/^This server can't .+ yet — ask its admin to enable .+\.$/);
      expect(e.message).not.toMatch(/npm run models/);
      expect(e.operatorHint).toContain(`"${PREFERRED_MODEL[task]}"`);
      expect(e.operatorHint).toMatch(/npm run models -- pull/);
    },
  );

  it.each(['generate_image', 'style', 'colorize', 'vary', 'outpaint', 'edit'] as const)(
    '%s with no image generator set up is refused before queueing, naming the settings to set and the model to pull',
    (task) => {
      const check = () => createTaskReadiness(context.settings).check(task, task === 'generate_image' ? [] : ['image'], { prompt: 'a red fox' });
      const error = (() => {
        try {
          check();
        } catch (e) {
          return e as TaskNotAvailableError;
        }
        throw new Error(`${task} was not refused`);
      })();
      expect(error).toBeInstanceOf(TaskNotAvailableError);
      expect(error.message).toBe("This server can't generate pictures yet — ask its admin to enable image generation.");
      expect(error.operatorHint).toMatch(/COMFYUI_URL/);
      expect(error.operatorHint).toMatch(/IMAGES_API_URL/);
      expect(error.operatorHint).toMatch(/npm run models -- pull sd-turbo/);
    },
  );

  it('replace, inpaint and background need an image generator only when they paint words', () => {
    const readiness = createTaskReadiness(context.settings);
    expect(() => readiness.check('background', ['image'], { color: 'white' })).not.toThrow();
    expect(() => readiness.check('background', ['image'], { prompt: 'a beach' })).toThrow(/ask its admin to enable image generation/);
    expect(() => readiness.check('inpaint', ['image'], {})).not.toThrow();
    expect(() => readiness.check('inpaint', ['image'], { prompt: 'flowers' })).toThrow(TaskNotAvailableError);
  });

  it.each(['answer'] as const)('%s, which no code here runs yet, says so instead of sending the operator to pull weights', async (task) => {
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#888' } })
      .png()
      .toBuffer();
    const media = await imageMedia(context, png);
    const error = await specialistFor(task)!
      .run(invocation(task, media, task === 'answer' ? { question: 'what is it?' } : {}), context)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskNotAvailableError);
    const e = error as TaskNotAvailableError;
    expect(e.code).toBe('TASK_NOT_AVAILABLE');
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/^This server can't /);
    expect(e.operatorHint).toMatch(/^This build cannot do /);
    expect(e.operatorHint).not.toMatch(/npm run models -- pull/);
    // answer can still be had without local weights, through an endpoint: the admin can act on it.
    if (task === 'answer') {
      expect(e.operatorHint).toMatch(/LLM_URL/);
      expect(e.message).toMatch(/ask its admin/);
    }
  });

  it('reports readiness per model and per task', () => {
    const r = readiness(context.models);
    const task = (t: Task) => r.tasks.find((x) => x.task === t)!;
    expect(task('cutout')).toMatchObject({ ready: true, models: ['isnet'], missing: [] });
    expect(task('ocr')).toMatchObject({ ready: true, models: ['ppocr-v4-det', 'ppocr-v4-rec'] });
    expect(task('adjust')).toMatchObject({ ready: true, models: [] });
    expect(task('trim').ready).toBe(true);
    // Without an endpoint or Florence-2, caption runs on the detectors and tells the operator both better ways;
    // answer has only the endpoint.
    expect(task('caption')).toMatchObject({ ready: true, reason: expect.stringMatching(/^stopgap: /) });
    expect(task('caption').operatorHint).toMatch(/npm run models -- pull florence-2-base.*LLM_URL/s);
    expect(task('answer')).toMatchObject({ ready: false, reason: 'set LLM_URL' });
    // A task that cannot run carries the exact command and files for /healthz-style reports.
    expect(task('depth').operatorHint).toMatch(/npm run models -- pull depth-anything-v2-small/);
    expect(r.tasks.some((t) => t.task === 'undo')).toBe(false);
    expect(r.models.find((m) => m.name === 'isnet')).toMatchObject({ installed: true, licence: 'MIT' });
    expect(r.executionProvider).toBe('cpu');
  });
});
