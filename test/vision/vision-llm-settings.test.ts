import { promises as fs } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { ModelNotInstalledError, SettingsError, TaskNotAvailableError } from '../../src/errors.ts';
import { createTaskReadiness, readiness } from '../../src/vision/readiness.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { CATALOG } from '../../models/catalog.ts';
import { answerSpecialist, captionSpecialist } from '../../src/vision/tasks/understand/caption-answer.ts';
import type { FakeVisionServer } from '../fakes/openai-vision/server.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, type TestContext, testRegistry, testSettings } from '../helpers/specialist-context.ts';
import { useFakeEndpoint, failure, MODEL } from './vision-llm-endpoint.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

let server: FakeVisionServer;
const contexts: TestContext[] = [];

useFakeEndpoint(contexts, (started) => {
  server = started;
});

/** A registry on which the npm-shipped detectors are missing too: nothing at all can caption. */
function registryWithoutDetectors(): ModelRegistry {
  const catalog = CATALOG.map((entry) =>
    entry.name === 'centernet-coco' ? { ...entry, source: { kind: 'npm' as const, package: '@vitron-test/absent' } } : entry,
  );
  return new ModelRegistry({ settings: testSettings(), catalog });
}

describe('without an endpoint', () => {
  photos.it('answer without an endpoint tells the chat to ask the admin, and the operator to set LLM_URL', async () => {
    const c = await makeSpecialistContext();
    contexts.push(c);
    const media = await imageMedia(c, await fs.readFile(testdata('horse.png')));
    const answer = await failure(answerSpecialist.run(invocation('answer', media, { question: 'what is it?' }), c));
    // No code here runs a local question-answering model, so the way is the endpoint, not a pull.
    expect(answer).toBeInstanceOf(TaskNotAvailableError);
    expect(answer.message).toBe("This server can't answer questions about pictures yet — ask its admin to enable picture questions.");
    expect((answer as TaskNotAvailableError).operatorHint).toContain('LLM_URL');
    expect((answer as TaskNotAvailableError).operatorHint).not.toContain('npm run models -- pull');
  });

  photos.it('caption without an endpoint or Florence-2 says what the detectors found; without those too, it names both ways to the operator', async () => {
    const c = await makeSpecialistContext();
    contexts.push(c);
    const media = await imageMedia(c, await fs.readFile(testdata('horse.png')));
    const found = await captionSpecialist.run(invocation('caption', media), c);
    expect(found.text).toBe('I have no captioning model here, so this is what my detectors found: a horse.');

    const bare = await makeSpecialistContext({ models: registryWithoutDetectors() });
    contexts.push(bare);
    const caption = await failure(captionSpecialist.run(invocation('caption', await imageMedia(bare, await fs.readFile(testdata('horse.png')))), bare));
    expect(caption).toBeInstanceOf(ModelNotInstalledError);
    expect(caption.message).toBe("This server can't describe pictures yet — ask its admin to enable captions.");
    expect((caption as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull florence-2-base');
    expect((caption as ModelNotInstalledError).operatorHint).toContain('LLM_URL');
  });

  it('readiness says answer is ready only when LLM_URL is set; caption always is (the detectors ship with npm)', () => {
    const settings = testSettings();
    const configured = testSettings({ LLM_URL: server.url, LLM_MODEL: MODEL });
    const { models } = testRegistry();
    const without = readiness(models, settings).tasks.find((t) => t.task === 'answer')!;
    expect(without).toMatchObject({ ready: false, reason: 'set LLM_URL' });
    expect(without.operatorHint).toContain('LLM_URL');
    const withUrl = readiness(models, configured).tasks.find((t) => t.task === 'answer')!;
    expect(withUrl).toMatchObject({ ready: true, models: [], missing: [] });

    expect(() => createTaskReadiness(settings).check('caption', ['image', 'video'])).not.toThrow();
    expect(readiness(models, settings).tasks.find((t) => t.task === 'caption')).toMatchObject({ ready: true, reason: expect.stringMatching(/^stopgap: /) });
    expect(readiness(models, configured).tasks.find((t) => t.task === 'caption')).toMatchObject({ ready: true });
    expect(readiness(models, configured).tasks.find((t) => t.task === 'caption')!.operatorHint).toBeUndefined();
    expect(() => createTaskReadiness(settings).check('answer', ['image'])).toThrow(TaskNotAvailableError);
    expect(() => createTaskReadiness(configured).check('caption', ['image', 'video'])).not.toThrow();
    expect(() => createTaskReadiness(configured).check('answer', ['image', 'video'])).not.toThrow();
  });
});

describe('vision endpoint settings', () => {
  it.each([
    [
      { LLM_URL: 'localhost:11434/v1' },
      'Setting LLM_URL: expected a URL starting with http:// or https://, without user:password@, received "localhost:11434/v1"',
    ],
    [
      { LLM_URL: 'http://localhost:11434/v1' },
      'Setting LLM_MODEL: expected the model to ask at LLM_URL (qwen2.5vl:3b, llava) when LLM_URL is set, received nothing',
    ],
    [
      { LLM_URL: 'http://localhost/v1', LLM_MODEL: 'qwen 2.5' },
      'Setting LLM_MODEL: expected a model name without spaces, as the server lists it (qwen2.5vl:3b, llava), received "qwen 2.5"',
    ],
    [{ LLM_TIMEOUT_MS: 'soon' }, 'Setting LLM_TIMEOUT_MS: expected an integer from 1000 to 3600000, received "soon"'],
    [{ LLM_MAX_IMAGE_SIDE: '16' }, 'Setting LLM_MAX_IMAGE_SIDE: expected an integer from 64 to 8192, received "16"'],
    [
      { LLM_API_KEY: 'sk-has a space' },
      'Setting LLM_API_KEY: expected an API key: printable characters, no spaces, received a value of 14 characters (not shown)',
    ],
  ])('stops start-up with one line naming the setting: %o', (env, message) => {
    const error = (() => {
      try {
        loadSettings(env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toBe(message);
  });

  it('still reads the old VISION_LLM_* names as LLM_*, a new name winning over its old one', () => {
    const settings = loadSettings({ VISION_LLM_URL: 'http://localhost:11434/v1', VISION_LLM_MODEL: 'llava', VISION_LLM_TIMEOUT_MS: '5000' });
    expect(settings).toMatchObject({ LLM_URL: 'http://localhost:11434/v1', LLM_MODEL: 'llava', LLM_TIMEOUT_MS: 5000 });
    expect(loadSettings({ VISION_LLM_MODEL: 'llava', LLM_MODEL: 'qwen2.5vl:3b' }).LLM_MODEL).toBe('qwen2.5vl:3b');
  });

  it('keeps a user:password URL out of fetch, drops a trailing slash, and has defaults', () => {
    expect(() => loadSettings({ LLM_URL: 'http://me:pw@host/v1', LLM_MODEL: 'llava' })).toThrow(/Setting LLM_URL/);
    const settings = loadSettings({ LLM_URL: 'http://localhost:11434/v1/', LLM_MODEL: 'llava' });
    expect(settings.LLM_URL).toBe('http://localhost:11434/v1');
    expect(settings.LLM_TIMEOUT_MS).toBe(120_000);
    expect(settings.LLM_MAX_IMAGE_SIDE).toBe(1024);
    expect(settings.LLM_API_KEY).toBeUndefined();
  });
});
