import { createComfyUiEngine } from './comfyui-engine.ts';
import type { EngineFactories } from './engine-choice.ts';
import { createImagesApiEngine } from './images-api-engine.ts';
import { createSdTurboEngine } from './sd-turbo.ts';

/** The engines this build has, as the job runner makes them (tests inject their own). */
export const DEFAULT_ENGINE_FACTORIES: EngineFactories = {
  comfyui: (settings) => createComfyUiEngine(settings),
  'images-api': (settings) => createImagesApiEngine(settings),
  'sd-turbo': (models) => createSdTurboEngine(models),
};
