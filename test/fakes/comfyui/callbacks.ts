import type { GenerationCallbacks } from '../../../src/vision/engines/engine.ts';

/** Callbacks that record what an engine reported, and the controller that cancels the job. */
export function recordingCallbacks(): GenerationCallbacks & {
  controller: AbortController;
  steps: { step: number; total: number; note: string }[];
  previews: Buffer[];
} {
  const controller = new AbortController();
  const steps: { step: number; total: number; note: string }[] = [];
  const previews: Buffer[] = [];
  return {
    controller,
    steps,
    previews,
    signal: controller.signal,
    progress: (step, total, note) => steps.push({ step, total, note }),
    preview: (image) => previews.push(image),
  };
}
