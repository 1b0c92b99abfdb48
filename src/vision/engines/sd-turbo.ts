import { InternalError } from '../../errors.ts';
import type { ModelRegistry } from '../models/model-registry.ts';
import type { GeneratedImage, GenerationCallbacks, GenerationEngine, GenerationOperation, GenerationRequest, GenerationResult } from './engine.ts';
import { latentMask, pasteKept, pixelsToRgb, previewPng, readMask, readPicture, rgbPng } from './sd-turbo-images.ts';
import type { InputPicture } from './sd-turbo-images.ts';
import { LATENT_CHANNELS, VAE_FACTOR, decodeLatent, denoise, encodeImage } from './sd-turbo-pipeline.ts';
import { promptHidden, TEXT_ENCODER_FILE } from './sd-turbo-prompt.ts';
import type { SdTurboSessions } from './sd-turbo-pipeline.ts';
import { gaussianNoise } from './sd-turbo-noise.ts';
import { planRequest } from './sd-turbo-request.ts';
import type { SdTurboPlan } from './sd-turbo-request.ts';
import { trailingSchedule } from './sd-turbo-scheduler.ts';
import { sdTurboTokenizer } from './sd-turbo-tokenizer.ts';

/**
 * The in-process SD-Turbo engine: tokenizer (Transformers.js) → text encoder → 1–4 Euler steps of the UNet →
 * VAE decoder, all on onnxruntime-node through the model registry (so ORT_PROVIDER and the thread count apply).
 * Image-to-image and inpainting start from the VAE encoder's latent of the input. No classifier-free guidance:
 * SD-Turbo is distilled to run at guidance 0, so the negative prompt has nothing to act on and is ignored
 * (running it would double the UNet's cost for no change).
 */

/** The catalog's SD-Turbo exports, the preferred one first for each execution provider. */
export const SD_TURBO_MODELS = { cuda: ['sd-turbo', 'sd-turbo-cpu'], cpu: ['sd-turbo-cpu', 'sd-turbo'] } as const;
/** The one a fresh install is told to pull (ModelNotInstalledError names it). */
export const SD_TURBO_PULL = 'sd-turbo';

export const GRAPH_FILES = {
  textEncoder: TEXT_ENCODER_FILE,
  unet: 'unet/model.onnx',
  vaeDecoder: 'vae_decoder/model.onnx',
  vaeEncoder: 'vae_encoder/model.onnx',
} as const;

export interface SdTurboEngineOptions {
  /**
   * Inpainting pastes the unmasked pixels of the input back after decoding (default true), so they stay byte
   * for byte; false leaves the VAE's reconstruction there (tests use it to see the latent blend itself).
   */
  pasteKept?: boolean;
}

const OPERATIONS: readonly GenerationOperation[] = ['text-to-image', 'image-to-image', 'inpaint'];

/** The installed export to use: the provider's preferred one, else any; none → the registry's ModelNotInstalledError. */
export function chooseModel(models: ModelRegistry, task: string): string {
  const order = SD_TURBO_MODELS[models.executionProvider];
  const installed = order.find((name) => models.isInstalled(name));
  if (installed !== undefined) return installed;
  models.require(SD_TURBO_PULL, task);
  return SD_TURBO_PULL;
}

async function loadSessions(models: ModelRegistry, model: string, task: string, withEncoder: boolean): Promise<SdTurboSessions> {
  const session = (file: string) => models.session(model, { task, file });
  const [unet, vaeDecoder, vaeEncoder] = await Promise.all([
    session(GRAPH_FILES.unet),
    session(GRAPH_FILES.vaeDecoder),
    withEncoder ? session(GRAPH_FILES.vaeEncoder) : Promise.resolve(undefined),
  ]);
  return { unet, vaeDecoder, vaeEncoder };
}

interface Inputs {
  picture?: InputPicture;
  imageLatent?: Float32Array;
  pixelMask?: Uint8Array;
  latentMask?: Float32Array;
}

async function prepareInputs(request: GenerationRequest, plan: SdTurboPlan, sessions: SdTurboSessions): Promise<Inputs> {
  if (plan.operation === 'text-to-image') return {};
  if (sessions.vaeEncoder === undefined) throw new InternalError(`${plan.operation} needs the VAE encoder, which was not loaded.`);
  const picture = await readPicture(request.image!, plan.width, plan.height);
  const imageLatent = await encodeImage(sessions.vaeEncoder, picture.pixels, plan.width, plan.height);
  if (plan.operation !== 'inpaint') return { picture, imageLatent };
  const pixelMask = await readMask(request.mask!, plan.width, plan.height);
  return { picture, imageLatent, pixelMask, latentMask: latentMask(pixelMask, plan.width, plan.height) };
}

export function createSdTurboEngine(models: ModelRegistry, options: SdTurboEngineOptions = {}): GenerationEngine {
  const keepPixels = options.pasteKept ?? true;
  return {
    name: 'sd-turbo',
    supports: (operation) => OPERATIONS.includes(operation),
    async generate(request: GenerationRequest, callbacks: GenerationCallbacks): Promise<GenerationResult> {
      const plan = planRequest(request);
      const model = chooseModel(models, request.task);
      // The tokenizer is read even when the prompt arrives encoded: a damaged install is reported the same way either way.
      const [, sessions] = await Promise.all([
        sdTurboTokenizer(models, model, request.task),
        loadSessions(models, model, request.task, plan.operation !== 'text-to-image'),
      ]);
      const { hidden } = await promptHidden(models, model, request.prompt, request.task, request.embeddings);
      const inputs = await prepareInputs(request, plan, sessions);
      const latentWidth = plan.width / VAE_FACTOR;
      const latentHeight = plan.height / VAE_FACTOR;
      const schedule = trailingSchedule(plan.steps, plan.strength);
      const total = plan.count * plan.steps;
      const images: GeneratedImage[] = [];
      for (let index = 0; index < plan.count; index++) {
        const seed = request.seed + index;
        const latent = await denoise(
          sessions,
          {
            latentWidth,
            latentHeight,
            schedule,
            noise: gaussianNoise(seed, LATENT_CHANNELS * latentWidth * latentHeight),
            hidden,
            imageLatent: inputs.imageLatent,
            latentMask: inputs.latentMask,
            // Inpainting at full strength starts from pure noise, as diffusers does; lower strengths from the picture.
            startFromImage: plan.operation === 'image-to-image' || (plan.operation === 'inpaint' && plan.strength < 1),
          },
          {
            signal: callbacks.signal,
            onStep: async (step, x0) => {
              const done = index * plan.steps + step + 1;
              const note = plan.count > 1 ? `image ${index + 1}/${plan.count}, step ${step + 1}/${plan.steps}` : `step ${step + 1}/${plan.steps}`;
              callbacks.progress(done, total, note);
              if (callbacks.preview) callbacks.preview(await previewPng(x0, latentWidth, latentHeight));
            },
          },
        );
        const rgb = pixelsToRgb(await decodeLatent(sessions.vaeDecoder, latent, latentWidth, latentHeight), plan.width, plan.height);
        if (keepPixels && inputs.pixelMask && inputs.picture) pasteKept(rgb, inputs.picture.rgb, inputs.pixelMask);
        images.push({ png: await rgbPng(rgb, plan.width, plan.height), seed });
      }
      return { images, engine: 'sd-turbo', model, steps: plan.steps, width: plan.width, height: plan.height };
    },
  };
}
