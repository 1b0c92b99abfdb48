import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeComfyUiClients } from '../../src/vision/engines/comfyui-engine.ts';
import { DEFAULT_ENGINE_FACTORIES } from '../../src/vision/engines/engines.ts';
import { animateSpecialist } from '../../src/vision/tasks/video/animate.ts';
import { FakeComfyUi } from '../fakes/comfyui/server.ts';
import { type TestContext, imageMedia, invocation, makeSpecialistContext } from '../helpers/specialist-context.ts';

/**
 * Which way animate goes: a video model (the fake ComfyUI's image → video) when one is configured and no
 * camera move was asked for; the camera move when one was asked for, or when there is no engine — then
 * saying that only the camera moves when the words asked for motion in the picture.
 */

let fake: FakeComfyUi;
let context: TestContext | undefined;

beforeAll(async () => {
  fake = await FakeComfyUi.start();
});
afterAll(async () => {
  closeComfyUiClients();
  await fake.close();
});
afterEach(async () => {
  await context?.cleanup();
  context = undefined;
});

const picture = () =>
  sharp({ create: { width: 300, height: 200, channels: 3, background: '#3366aa' } })
    .png()
    .toBuffer();

describe('animate: engine or camera', () => {
  it('"make the clouds move" goes to the image → video engine when ComfyUI is configured', async () => {
    context = await makeSpecialistContext({ env: { COMFYUI_URL: fake.url } });
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const before = fake.accepted.size;
    const result = await animateSpecialist.run(
      invocation('animate', await imageMedia(context, await picture()), { prompt: 'make the clouds move', seconds: 1 }),
      context,
    );
    expect(fake.accepted.size).toBe(before + 1);
    expect(result.media[0]).toMatchObject({ kind: 'video', mime: 'video/mp4', generation: { model: 'comfyui:image_to_video.json' } });
    expect(result.text).toMatch(/^Animated \("make the clouds move"\), with comfyui/);
  }, 60_000);

  it('"pan to the left" stays a camera move even with ComfyUI configured', async () => {
    context = await makeSpecialistContext({ env: { COMFYUI_URL: fake.url } });
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const before = fake.accepted.size;
    const result = await animateSpecialist.run(invocation('animate', await imageMedia(context, await picture()), { motion: 'pan_left', seconds: 1 }), context);
    expect(fake.accepted.size).toBe(before);
    expect(result.text).toMatch(/^Animated it with a pan to the left: 1 s at 24 fps, 300×200\.$/);
  }, 60_000);

  it('without an engine, "make the clouds move" is a camera move that says only the camera moves', async () => {
    context = await makeSpecialistContext();
    context.engines = DEFAULT_ENGINE_FACTORIES;
    const result = await animateSpecialist.run(
      invocation('animate', await imageMedia(context, await picture()), { prompt: 'make the clouds move', motion: 'zoom_in', seconds: 1 }),
      context,
    );
    expect(result.media[0]).toMatchObject({ kind: 'video', mime: 'video/mp4' });
    expect(result.text).toMatch(/slow zoom in: 1 s .* no video model, so nothing in the picture itself moves: only the camera does\.$/);
  }, 60_000);
});
