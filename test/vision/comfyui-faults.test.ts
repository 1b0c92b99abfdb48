import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EngineUnavailableError } from '../../src/errors.ts';
import { closeComfyUiClients, createComfyUiEngine } from '../../src/vision/engines/comfyui-engine.ts';
import type { GenerationRequest } from '../../src/vision/engines/engine.ts';
import { recordingCallbacks } from '../fakes/comfyui/callbacks.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';

let fake: FakeComfyUi;
const draw: GenerationRequest = {
  operation: 'text-to-image',
  task: 'generate_image',
  prompt: 'a lighthouse',
  seed: 9,
  width: 256,
  height: 256,
  count: 1,
  steps: 6,
};

beforeAll(async () => {
  fake = await FakeComfyUi.start();
});
afterEach(() => {
  closeComfyUiClients();
  fake.stepDelayMs = 1;
});
afterAll(() => fake.close());

describe('ComfyUI engine when the server misbehaves', () => {
  it('a socket dropped mid-job (server still running) reconnects and still returns the image', async () => {
    fake.stepDelayMs = 30;
    fake.dropSocketsAtStep = 2;
    const callbacks = recordingCallbacks();
    const result = await createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 20_000 }).generate(draw, callbacks);
    expect(result.images).toHaveLength(1);
    expect(fake.dropSocketsAtStep).toBeUndefined();
    // Steps before the drop arrived over the socket; the result came although events after it may be lost.
    expect(callbacks.steps.some((s) => s.note === 'step 2/6')).toBe(true);
  });

  it('a restart mid-job (queue and history forgotten) ends in EngineUnavailableError, promptly', async () => {
    fake.stepDelayMs = 20;
    fake.restartAtStep = { step: 2, downMs: 300 };
    const started = Date.now();
    const error = await createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 60_000 })
      .generate(draw, recordingCallbacks())
      .catch((e: unknown) => e);
    expect(fake.restarts).toBe(1);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toMatch(/no longer knows prompt .* restarted/);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('after a restart the next job runs normally on the same client', async () => {
    const result = await createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 20_000 }).generate(
      draw,
      recordingCallbacks(),
    );
    expect(result.images).toHaveLength(1);
  });

  it('a job over COMFYUI_TIMEOUT_MS is withdrawn from ComfyUI and ends in EngineUnavailableError', async () => {
    fake.stepDelayMs = 400;
    const error = await createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 1000 })
      .generate(draw, recordingCallbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toMatch(/COMFYUI_TIMEOUT_MS \(1000 ms\)/);
    const last = fake.interrupts.at(-1)!;
    expect(last.interrupted).toBeDefined();
    expect(last.body).toEqual({ prompt_id: last.interrupted });
  });

  it('someone else interrupting our running prompt is an EngineUnavailableError (the job can run again)', async () => {
    fake.stepDelayMs = 20;
    const callbacks = recordingCallbacks();
    const job = createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 20_000 })
      .generate(draw, callbacks)
      .catch((e: unknown) => e);
    while (callbacks.steps.length < 2) await new Promise((r) => setTimeout(r, 10));
    await fetch(`${fake.url}/interrupt`, { method: 'POST' });
    const error = await job;
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toMatch(/interrupted our prompt/);
  });
});
