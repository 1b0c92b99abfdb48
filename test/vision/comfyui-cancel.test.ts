import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobCancelledError } from '../../src/errors.ts';
import { closeComfyUiClients, createComfyUiEngine } from '../../src/vision/engines/comfyui-engine.ts';
import type { GenerationRequest } from '../../src/vision/engines/engine.ts';
import { recordingCallbacks } from '../fakes/comfyui/callbacks.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';

let fake: FakeComfyUi;
const draw: GenerationRequest = {
  operation: 'text-to-image',
  task: 'generate_image',
  prompt: 'a castle',
  seed: 5,
  width: 256,
  height: 256,
  count: 1,
  steps: 50,
};
const engine = () => createComfyUiEngine({ COMFYUI_URL: fake.url, COMFYUI_WORKFLOWS_DIR: undefined, COMFYUI_TIMEOUT_MS: 30_000 });

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  fake = await FakeComfyUi.start();
});
afterEach(async () => {
  fake.legacyInterrupt = false;
  fake.stepDelayMs = 1;
  await until(() => fake.queued().running === undefined && fake.queued().pending.length === 0);
});
afterAll(async () => {
  closeComfyUiClients();
  await fake.close();
});

describe('cancelling a ComfyUI job', () => {
  it('while pending behind another client: deleted from the queue, no /interrupt, their prompt runs on', async () => {
    fake.legacyInterrupt = true; // an old server: /interrupt would stop whatever runs
    fake.stepDelayMs = 20;
    const theirs = fake.queueForeign(15);
    await until(() => fake.queued().running === theirs);
    const callbacks = recordingCallbacks();
    const job = engine()
      .generate(draw, callbacks)
      .catch((e: unknown) => e);
    await until(() => fake.queued().pending.length === 1);
    const ours = fake.queued().pending[0]!;
    await until(() => callbacks.steps.some((s) => s.note === 'queued at ComfyUI, position 1'));
    const interruptsBefore = fake.interrupts.length;
    callbacks.controller.abort();
    expect(await job).toBeInstanceOf(JobCancelledError);
    expect(fake.deleted).toContain(ours);
    expect(fake.interrupts.length).toBe(interruptsBefore);
    expect(fake.queued().running).toBe(theirs);
  });

  it('while running: interrupts our prompt by id and ends in JobCancelledError', async () => {
    fake.stepDelayMs = 20;
    const callbacks = recordingCallbacks();
    const job = engine()
      .generate(draw, callbacks)
      .catch((e: unknown) => e);
    await until(() => callbacks.steps.length >= 2);
    const ours = fake.queued().running!;
    callbacks.controller.abort();
    expect(await job).toBeInstanceOf(JobCancelledError);
    expect(fake.interrupts.at(-1)).toEqual({ body: { prompt_id: ours }, interrupted: ours });
    expect(callbacks.steps.length).toBeLessThan(50);
  });

  it("never interrupts another client's running prompt, even on a server that ignores prompt_id", async () => {
    fake.legacyInterrupt = true;
    fake.stepDelayMs = 20;
    const callbacks = recordingCallbacks();
    const job = engine()
      .generate(draw, callbacks)
      .catch((e: unknown) => e);
    await until(() => callbacks.steps.length >= 1);
    const ours = fake.queued().running!;
    const theirs = fake.queueForeign(5);
    callbacks.controller.abort();
    expect(await job).toBeInstanceOf(JobCancelledError);
    expect(fake.interrupts.at(-1)!.interrupted).toBe(ours);
    await until(() => fake.queued().running === undefined);
    expect(fake.interrupts.every((i) => i.interrupted !== theirs)).toBe(true);
    expect(fake.accepted.has(theirs)).toBe(true);
  });

  it('a signal aborted before the job starts queues nothing', async () => {
    const callbacks = recordingCallbacks();
    callbacks.controller.abort();
    const before = fake.accepted.size;
    expect(
      await engine()
        .generate(draw, callbacks)
        .catch((e: unknown) => e),
    ).toBeInstanceOf(JobCancelledError);
    expect(fake.accepted.size).toBe(before);
  });
});
