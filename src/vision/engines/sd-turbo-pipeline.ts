import type * as ort from 'onnxruntime-node';
import { InternalError, JobCancelledError, VitronError } from '../../errors.ts';
import { eulerStep, modelInputScale } from './sd-turbo-scheduler.ts';
import type { Schedule } from './sd-turbo-scheduler.ts';
import { floatInput, floatOutput, inputNamed, numberInput, oneValueDims, outputNamed } from './sd-turbo-tensors.ts';

/**
 * The four SD-Turbo graphs and the loop between them. Input names and types are read from each graph
 * (sd-turbo-tensors.ts), so exports that differ in timestep type, fp16 inputs or VAE-encoder output still run.
 */

/** SD 1.x/2.x VAE latent scaling: the UNet works on 0.18215·z. */
export const LATENT_SCALE = 0.18215;
export const LATENT_CHANNELS = 4;
/** Pixels per latent cell along each side. */
export const VAE_FACTOR = 8;

/** The graphs of the picture side; the text encoder is loaded apart, only when a prompt is encoded here (sd-turbo-prompt.ts). */
export interface SdTurboSessions {
  unet: ort.InferenceSession;
  vaeDecoder: ort.InferenceSession;
  /** Only for image-to-image and inpainting. */
  vaeEncoder?: ort.InferenceSession;
}

export interface Hidden {
  data: Float32Array;
  dims: readonly number[];
}

async function runOne(
  session: ort.InferenceSession,
  feeds: Record<string, ort.Tensor>,
  output: string,
  what: string,
): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const result = await session.run(feeds, [output]);
  const tensor = result[output]!;
  return { data: floatOutput(tensor, what), dims: tensor.dims };
}

/** last_hidden_state for 77 token ids. */
export async function encodePrompt(textEncoder: ort.InferenceSession, ids: readonly number[]): Promise<Hidden> {
  const input = inputNamed(textEncoder, 'text encoder', /input_ids/);
  const feeds = { [input]: numberInput(textEncoder, input, 'text encoder', ids, [1, ids.length]) };
  return runOne(textEncoder, feeds, outputNamed(textEncoder, ['last_hidden_state']), "The text encoder's output");
}

/**
 * The scaled latent of an image given as [1,3,H,W] in [-1,1]. An encoder that returns mean‖logvar (8 channels,
 * `latent_parameters`) gives its mean — deterministic, so the same seed gives the same picture; one that returns
 * 4 channels (`latent_sample`) already sampled inside the graph, and we take what it gives.
 */
export async function encodeImage(vaeEncoder: ort.InferenceSession, pixels: Float32Array, width: number, height: number): Promise<Float32Array> {
  const input = inputNamed(vaeEncoder, 'VAE encoder', /sample|pixel/);
  const feeds = { [input]: floatInput(vaeEncoder, input, 'VAE encoder', pixels, [1, 3, height, width]) };
  const out = await runOne(vaeEncoder, feeds, outputNamed(vaeEncoder, ['latent_parameters', 'latent_sample', 'latent_dist']), "The VAE encoder's output");
  const channels = out.dims[1];
  const cells = (width / VAE_FACTOR) * (height / VAE_FACTOR);
  if ((channels !== LATENT_CHANNELS && channels !== 2 * LATENT_CHANNELS) || out.data.length !== channels * cells) {
    throw new InternalError(`The VAE encoder returned [${out.dims.join(',')}]; expected 4 (sampled) or 8 (mean and log-variance) channels at 1/8 size.`);
  }
  // Channel-major: the mean is the first 4·cells values of mean‖logvar.
  const latent = new Float32Array(LATENT_CHANNELS * cells);
  for (let i = 0; i < latent.length; i++) latent[i] = out.data[i]! * LATENT_SCALE;
  return latent;
}

/** Pixels [1,3,H,W] in about [-1,1] for a scaled latent. */
export async function decodeLatent(vaeDecoder: ort.InferenceSession, latent: Float32Array, latentWidth: number, latentHeight: number): Promise<Float32Array> {
  const input = inputNamed(vaeDecoder, 'VAE decoder', /latent/);
  const z = new Float32Array(latent.length);
  for (let i = 0; i < z.length; i++) z[i] = latent[i]! / LATENT_SCALE;
  const feeds = { [input]: floatInput(vaeDecoder, input, 'VAE decoder', z, [1, LATENT_CHANNELS, latentHeight, latentWidth]) };
  const out = await runOne(vaeDecoder, feeds, outputNamed(vaeDecoder, ['sample']), "The VAE decoder's output");
  const expected = 3 * latentWidth * VAE_FACTOR * latentHeight * VAE_FACTOR;
  if (out.data.length !== expected)
    throw new InternalError(`The VAE decoder returned [${out.dims.join(',')}], not [1,3,${latentHeight * 8},${latentWidth * 8}].`);
  return out.data;
}

export interface DenoisePlan {
  latentWidth: number;
  latentHeight: number;
  schedule: Schedule;
  /** Standard normal noise, one value per latent element, from the image's seed. */
  noise: Float32Array;
  hidden: Hidden;
  /** The input picture's scaled latent (image-to-image, inpainting). */
  imageLatent?: Float32Array;
  /** Inpainting: 1 where the latent cell is repainted, 0 where the picture is kept; one value per cell. */
  latentMask?: Float32Array;
  /** Start from the noised picture (image-to-image, inpainting below strength 1) rather than from pure noise. */
  startFromImage: boolean;
}

export interface DenoiseHooks {
  signal: AbortSignal;
  /** After step i (0-based) with the current estimate of the clean latent. */
  onStep?(step: number, x0: Float32Array): void | Promise<void>;
}

/**
 * The start latent: pure noise at σ₀ when there is no picture to start from (text-to-image, or inpainting at
 * strength 1, as diffusers does), else the picture's latent noised to σ₀ (diffusers' `add_noise` for Euler).
 */
export function startLatent(noise: Float32Array, sigma: number, imageLatent?: Float32Array, fromImage = imageLatent !== undefined): Float32Array {
  const x = new Float32Array(noise.length);
  for (let i = 0; i < x.length; i++) x[i] = (fromImage && imageLatent ? imageLatent[i]! : 0) + sigma * noise[i]!;
  return x;
}

/**
 * Inpainting's blend after a step (diffusers' StableDiffusionInpaintPipeline for a 4-channel UNet): outside
 * the mask the latent is the picture's, re-noised to the next step's σ with the same noise (σ 0 after the last
 * step: the picture itself); inside, the model's.
 */
export function blendKnown(x: Float32Array, imageLatent: Float32Array, noise: Float32Array, sigma: number, latentMask: Float32Array): void {
  const cells = latentMask.length;
  for (let i = 0; i < x.length; i++) {
    const m = latentMask[i % cells]!;
    if (m >= 1) continue;
    const known = imageLatent[i]! + sigma * noise[i]!;
    x[i] = m * x[i]! + (1 - m) * known;
  }
}

/** The job runner aborts with a typed reason (cancelled, timed out); a bare abort() becomes JobCancelledError. */
function throwIfAborted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  throw signal.reason instanceof VitronError ? signal.reason : new JobCancelledError();
}

/** Runs the schedule and returns the final (clean) scaled latent. */
export async function denoise(sessions: SdTurboSessions, plan: DenoisePlan, hooks: DenoiseHooks): Promise<Float32Array> {
  const { unet } = sessions;
  const { timesteps, sigmas } = plan.schedule;
  const sampleName = inputNamed(unet, 'UNet', /^sample$|latent/, [/timestep/, /hidden/]);
  const timestepName = inputNamed(unet, 'UNet', /timestep/);
  const hiddenName = inputNamed(unet, 'UNet', /hidden/);
  const outName = outputNamed(unet, ['out_sample']);
  const dims = [1, LATENT_CHANNELS, plan.latentHeight, plan.latentWidth];
  const timestepDims = oneValueDims(unet, timestepName, 'UNet');
  const hidden = floatInput(unet, hiddenName, 'UNet', plan.hidden.data, plan.hidden.dims);
  const x = startLatent(plan.noise, sigmas[0]!, plan.imageLatent, plan.startFromImage);
  const x0 = new Float32Array(x.length);
  const scaled = new Float32Array(x.length);
  for (let i = 0; i < timesteps.length; i++) {
    throwIfAborted(hooks.signal);
    const sigma = sigmas[i]!;
    const next = sigmas[i + 1]!;
    const scale = modelInputScale(sigma);
    for (let j = 0; j < x.length; j++) scaled[j] = x[j]! * scale;
    const feeds = {
      [sampleName]: floatInput(unet, sampleName, 'UNet', scaled, dims),
      [timestepName]: numberInput(unet, timestepName, 'UNet', [timesteps[i]!], timestepDims),
      [hiddenName]: hidden,
    };
    const eps = await runOne(unet, feeds, outName, "The UNet's output");
    if (eps.data.length !== x.length) throw new InternalError(`The UNet returned [${eps.dims.join(',')}], not [${dims.join(',')}].`);
    eulerStep(x, eps.data, sigma, next, x0);
    if (plan.latentMask && plan.imageLatent) {
      blendKnown(x, plan.imageLatent, plan.noise, next, plan.latentMask);
      blendKnown(x0, plan.imageLatent, plan.noise, 0, plan.latentMask);
    }
    await hooks.onStep?.(i, x0);
  }
  throwIfAborted(hooks.signal);
  return x;
}
