/**
 * The noise schedule SD-Turbo was distilled with, as diffusers' `EulerDiscreteScheduler` runs it from the
 * model's scheduler_config.json (beta_schedule "scaled_linear", beta_start 0.00085, beta_end 0.012,
 * num_train_timesteps 1000, prediction_type "epsilon", timestep_spacing "trailing", no churn):
 * - betas = linspace(√0.00085, √0.012, 1000)², ᾱ = cumprod(1 − β), σ(t) = √((1 − ᾱ_t) / ᾱ_t);
 * - "trailing" timesteps for n steps: round(arange(1000, 0, −1000/n)) − 1 → 1 step: [999], 2: [999, 499],
 *   4: [999, 749, 499, 249]; the sigmas are σ at those timesteps, then a final 0;
 * - init_noise_sigma is σ_max itself for "trailing" (not √(σ²+1)): the start latent is randn·σ_max;
 * - scale_model_input: the UNet sees x/√(σ²+1); step: x0 = x − σ·ε, x_next = x0 + σ_next·(x − x0)/σ.
 * Image-to-image starts part-way down: diffusers keeps the last ⌊n·strength⌋ of n trailing steps; we instead
 * space `steps` trailing timesteps over [0, 1000·strength), which gives the same timesteps in the usual case
 * (2 steps of strength 0.5 in diffusers ≡ 1 step from t 499 here) and lets any strength run any step count.
 * Float64 throughout: the table is computed once and rounding here would only add error to the oracle tests.
 */

export const TRAIN_STEPS = 1000;
const BETA_START = 0.00085;
const BETA_END = 0.012;

function sigmaTable(): Float64Array {
  const sigmas = new Float64Array(TRAIN_STEPS);
  const a = Math.sqrt(BETA_START);
  const b = Math.sqrt(BETA_END);
  let alphaBar = 1;
  for (let t = 0; t < TRAIN_STEPS; t++) {
    const beta = (a + ((b - a) * t) / (TRAIN_STEPS - 1)) ** 2;
    alphaBar *= 1 - beta;
    sigmas[t] = Math.sqrt((1 - alphaBar) / alphaBar);
  }
  return sigmas;
}

/** σ at each training timestep 0..999 (σ(999) ≈ 14.6146). */
export const SIGMAS: Float64Array = sigmaTable();

export interface Schedule {
  /** The UNet's timestep per step, descending. */
  timesteps: number[];
  /** σ per step, plus a final 0: sigmas.length = timesteps.length + 1. */
  sigmas: number[];
}

/** `steps` trailing timesteps over [0, 1000·strength): strength 1 is text-to-image from pure noise. */
export function trailingSchedule(steps: number, strength = 1): Schedule {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`steps must be a positive integer, not ${steps}`);
  if (!(strength > 0 && strength <= 1)) throw new RangeError(`strength must be in (0, 1], not ${strength}`);
  const span = Math.max(steps, Math.round(TRAIN_STEPS * strength));
  const timesteps: number[] = [];
  for (let i = 0; i < steps; i++) timesteps.push(Math.round(span - (i * span) / steps) - 1);
  return { timesteps, sigmas: [...timesteps.map((t) => SIGMAS[t]!), 0] };
}

/** What the UNet is fed for latent x at σ. */
export function modelInputScale(sigma: number): number {
  return 1 / Math.sqrt(sigma * sigma + 1);
}

/**
 * One Euler step in place: x0 = x − σ·ε (written to `x0`), then x ← x0 + σ_next·(x − x0)/σ, which is
 * diffusers' x + (σ_next − σ)·(x − x0)/σ.
 */
export function eulerStep(x: Float32Array, eps: ArrayLike<number>, sigma: number, sigmaNext: number, x0: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const e = eps[i]!;
    const clean = x[i]! - sigma * e;
    x0[i] = clean;
    x[i] = clean + sigmaNext * e;
  }
}
