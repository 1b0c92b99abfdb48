import { describe, expect, it } from 'vitest';
import { TaskNotAvailableError } from '../../src/errors.ts';
import type { GenerationEngine, GenerationOperation } from '../../src/vision/engines/engine.ts';
import { chooseEngine, firstConfiguredEngine, type EngineFactories, type EngineSettings } from '../../src/vision/engines/engine-choice.ts';
import { servedByEndpoint } from '../../src/vision/readiness.ts';
import { testRegistry } from '../helpers/specialist-context.ts';

/** An engine that can do the listed operations and says so; generate is never called here. */
function engineDoing(name: GenerationEngine['name'], operations: readonly GenerationOperation[]): GenerationEngine {
  return {
    name,
    supports: (operation) => operations.includes(operation),
    generate: () => Promise.reject(new Error('not called')),
  };
}

function factories(made: Partial<Record<GenerationEngine['name'], readonly GenerationOperation[]>>): EngineFactories {
  const make = (name: GenerationEngine['name']) => engineDoing(name, made[name] ?? []);
  return { comfyui: () => make('comfyui'), 'images-api': () => make('images-api'), 'sd-turbo': () => make('sd-turbo') };
}

const settings = (over: Partial<EngineSettings>): EngineSettings => ({
  GENERATION_ENGINES: ['comfyui', 'images-api', 'sd-turbo'],
  COMFYUI_URL: undefined,
  COMFYUI_WORKFLOWS_DIR: undefined,
  COMFYUI_TIMEOUT_MS: 1000,
  IMAGES_API_URL: undefined,
  IMAGES_API_KEY: undefined,
  IMAGES_API_MODEL: 'gpt-image-2.5-flare',
  IMAGES_API_TIMEOUT_MS: 1000,
  ...over,
});

describe('choosing a generation engine', () => {
  const { models } = testRegistry();
  const all: readonly GenerationOperation[] = ['text-to-image', 'image-to-image', 'inpaint', 'instruct'];

  it('takes the first configured engine in GENERATION_ENGINES order, skipping ones that are not set up', () => {
    const both = settings({ COMFYUI_URL: 'http://127.0.0.1:1', IMAGES_API_URL: 'http://127.0.0.1:2/v1', COMFYUI_TIMEOUT_MS: 1001 });
    expect(chooseEngine('generate_image', ['text-to-image'], both, models, factories({ comfyui: all, 'images-api': all })).engine.name).toBe('comfyui');
    const reversed = { ...both, GENERATION_ENGINES: ['images-api', 'comfyui'] as EngineSettings['GENERATION_ENGINES'] };
    expect(chooseEngine('generate_image', ['text-to-image'], reversed, models, factories({ comfyui: all, 'images-api': all })).engine.name).toBe('images-api');
    const onlyImages = settings({ IMAGES_API_URL: 'http://127.0.0.1:3/v1' });
    expect(chooseEngine('generate_image', ['text-to-image'], onlyImages, models, factories({ comfyui: all, 'images-api': all })).engine.name).toBe(
      'images-api',
    );
  });

  it('falls back to the next operation only when no configured engine can do the first (an instruction edit becomes image-to-image)', () => {
    const s = settings({ COMFYUI_URL: 'http://127.0.0.1:4', COMFYUI_TIMEOUT_MS: 1002 });
    const chosen = chooseEngine('edit', ['instruct', 'image-to-image'], s, models, factories({ comfyui: ['image-to-image'] }));
    expect(chosen).toMatchObject({ operation: 'image-to-image' });
    expect(chosen.engine.name).toBe('comfyui');
  });

  /** What chooseEngine threw, for its chat message and its operator hint. */
  const thrown = (choose: () => unknown): TaskNotAvailableError => {
    try {
      choose();
    } catch (error) {
      expect(error).toBeInstanceOf(TaskNotAvailableError);
      return error as TaskNotAvailableError;
    }
    throw new Error('chooseEngine did not throw');
  };

  it('with nothing configured, tells the chat to ask the admin and the operator which settings to set or model to pull', () => {
    const error = thrown(() => chooseEngine('generate_image', ['text-to-image'], settings({}), models, factories({})));
    expect(error.message).toBe("This server can't generate pictures yet — ask its admin to enable image generation.");
    expect(error.operatorHint).toMatch(/COMFYUI_URL.*IMAGES_API_URL.*npm run models -- pull sd-turbo/);
  });

  it('with engines configured that cannot do the operation, says which are configured and how to add a workflow', () => {
    const s = settings({ COMFYUI_URL: 'http://127.0.0.1:5', COMFYUI_TIMEOUT_MS: 1003 });
    const error = thrown(() => chooseEngine('outpaint', ['inpaint'], s, models, factories({ comfyui: ['text-to-image'] })));
    expect(error.message).toBe("This server's image generators can't do extending the picture yet — ask its admin to add it.");
    expect(error.operatorHint).toMatch(/\(comfyui\).*workflow/);
  });

  it('sends endpoint engines to the network lane and SD-Turbo to the inference threads, by GENERATION_ENGINES order', () => {
    const installed = (name: string) => name === 'sd-turbo-cpu';
    const both = settings({ COMFYUI_URL: 'http://127.0.0.1:6' });
    expect(firstConfiguredEngine(both, { isInstalled: installed })).toBe('comfyui');
    expect(servedByEndpoint('generate_image', both, installed)).toBe(true);
    const local = { ...both, GENERATION_ENGINES: ['sd-turbo', 'comfyui'] as EngineSettings['GENERATION_ENGINES'] };
    expect(firstConfiguredEngine(local, { isInstalled: installed })).toBe('sd-turbo');
    expect(servedByEndpoint('generate_image', local, installed)).toBe(false);
  });
});
