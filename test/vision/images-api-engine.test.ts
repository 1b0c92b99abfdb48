import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ContentBlockedError, CorruptMediaError, EngineRejectedError, EngineUnavailableError, JobCancelledError, SettingsError } from '../../src/errors.ts';
import type { GenerationCallbacks, GenerationRequest } from '../../src/vision/engines/engine.ts';
import { createImagesApiEngine, type ImagesApiSettings } from '../../src/vision/engines/images-api-engine.ts';
import { MODERATION_SENTENCE } from '../../src/vision/engines/images-api-errors.ts';
import { closestSize, imagesApiModelFacts } from '../../src/vision/engines/images-api-sizes.ts';
import { colourOf, type FakeImagesServer, startFakeImagesServer } from '../fakes/openai-images/server.ts';
import { freePort } from '../helpers/free-port.ts';

const KEY = 'sk-test-right-key-0123456789';
let fake: FakeImagesServer | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: { apiKey?: string } = {}): Promise<FakeImagesServer> {
  fake = await startFakeImagesServer({ port: await freePort(), apiKey: options.apiKey ?? KEY });
  return fake;
}

function settings(server: FakeImagesServer, over: Partial<ImagesApiSettings> = {}): ImagesApiSettings {
  return { IMAGES_API_URL: server.url, IMAGES_API_KEY: KEY, IMAGES_API_MODEL: 'gpt-image-1', IMAGES_API_TIMEOUT_MS: 20_000, ...over };
}

function callbacks(signal: AbortSignal = new AbortController().signal): GenerationCallbacks & { steps: [number, number, string][] } {
  const steps: [number, number, string][] = [];
  return { steps, signal, progress: (step, total, note) => steps.push([step, total, note]) };
}

function request(over: Partial<GenerationRequest> = {}): GenerationRequest {
  return { operation: 'text-to-image', task: 'generate_image', prompt: 'a red fox in snow', seed: 42, width: 1024, height: 1024, count: 1, ...over };
}

async function colourAndSize(png: Buffer): Promise<{ width: number; height: number; format: string; r: number; g: number; b: number }> {
  const meta = await sharp(png).metadata();
  const { channels } = await sharp(png).stats();
  return {
    width: meta.width!,
    height: meta.height!,
    format: meta.format!,
    r: Math.round(channels[0]!.mean),
    g: Math.round(channels[1]!.mean),
    b: Math.round(channels[2]!.mean),
  };
}

/** A picture the engine must send as PNG (it arrives as JPEG) and a mask with a white rectangle and grey edges. */
async function pictureAndMask(width: number, height: number): Promise<{ image: Buffer; mask: Buffer; maskRaw: Buffer }> {
  const image = await sharp({ create: { width, height, channels: 3, background: { r: 10, g: 120, b: 200 } } })
    .jpeg()
    .toBuffer();
  const maskRaw = Buffer.alloc(width * height, 0);
  for (let y = 5; y < 20; y++) for (let x = 8; x < 30; x++) maskRaw[y * width + x] = 255;
  maskRaw[0] = 128; // the threshold itself counts as white
  maskRaw[1] = 127; // just under it does not
  const mask = await sharp(maskRaw, { raw: { width, height, channels: 1 } })
    .png()
    .toBuffer();
  return { image, mask, maskRaw };
}

describe('images-api engine: generations', () => {
  it('asks one request for n images at the closest gpt-image-1 size, folds the negative prompt in and records the seeds', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server));
    const cb = callbacks();
    const result = await engine.generate(request({ count: 3, width: 1000, height: 600, negativePrompt: 'dogs' }), cb);

    expect(server.requests).toHaveLength(1);
    const sent = server.requests[0]!;
    expect(sent.path).toBe('/v1/images/generations');
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(sent.fields).toMatchObject({ model: 'gpt-image-1', n: 3, size: '1536x1024', prompt: 'a red fox in snow\nAvoid: dogs' });
    expect(sent.fields).not.toHaveProperty('response_format');

    expect(result).toMatchObject({ engine: 'images-api', model: 'gpt-image-1', width: 1536, height: 1024 });
    expect(result.steps).toBeUndefined();
    expect(result.images.map((i) => i.seed)).toEqual([42, 43, 44]);
    const want = colourOf('a red fox in snow\nAvoid: dogs');
    for (const image of result.images) expect(await colourAndSize(image.png)).toEqual({ width: 1536, height: 1024, format: 'png', ...want });
    expect(cb.steps.map(([s, t]) => [s, t])).toEqual([
      [1, 2],
      [2, 2],
    ]);
  });

  it('calls dall-e-3 once per image (it takes n=1 only), asking for base64 at a portrait size', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server, { IMAGES_API_MODEL: 'dall-e-3' }));
    const cb = callbacks();
    const result = await engine.generate(request({ count: 2, width: 600, height: 1000 }), cb);

    expect(server.requests.map((r) => r.fields)).toEqual([
      expect.objectContaining({ model: 'dall-e-3', n: 1, size: '1024x1792', response_format: 'b64_json' }),
      expect.objectContaining({ model: 'dall-e-3', n: 1, size: '1024x1792', response_format: 'b64_json' }),
    ]);
    expect(result.images.map((i) => i.seed)).toEqual([42, 43]);
    expect(cb.steps.map(([s, t]) => [s, t])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
  });

  it('fetches the pictures once when the server answers with URLs instead of base64', async () => {
    const server = await start();
    server.mode = 'url';
    const engine = createImagesApiEngine(settings(server));
    const result = await engine.generate(request({ count: 2 }), callbacks());
    expect(server.fileFetches).toBe(2);
    expect(result.images).toHaveLength(2);
    for (const image of result.images)
      expect(await colourAndSize(image.png)).toMatchObject({ width: 1024, height: 1024, format: 'png', ...colourOf('a red fox in snow') });
  });

  it('maps sizes per model: aspect first, then pixels; free sizes rounded to 16 within 1:3..3:1', () => {
    const gpt = imagesApiModelFacts('gpt-image-1');
    expect(closestSize(gpt, 512, 512)).toEqual({ width: 1024, height: 1024 });
    expect(closestSize(gpt, 768, 1344)).toEqual({ width: 1024, height: 1536 });
    expect(closestSize(imagesApiModelFacts('dall-e-2'), 300, 280)).toEqual({ width: 256, height: 256 });
    expect(closestSize(imagesApiModelFacts('dall-e-3'), 1920, 1080)).toEqual({ width: 1792, height: 1024 });
    const free = imagesApiModelFacts('gpt-image-2');
    expect(closestSize(free, 1000, 600)).toEqual({ width: 992, height: 592 });
    const wide = closestSize(free, 4000, 500);
    expect(wide.width / wide.height).toBeLessThanOrEqual(3.1);
    expect((wide.width % 16) + (wide.height % 16)).toBe(0);
    expect(wide.width * wide.height).toBeLessThanOrEqual(2560 * 1440);
  });

  it('supports every operation, except edits on dall-e-3, which has no edit endpoint', async () => {
    const server = await start();
    const gpt = createImagesApiEngine(settings(server));
    for (const op of ['text-to-image', 'image-to-image', 'inpaint', 'instruct'] as const) expect(gpt.supports(op, 'style')).toBe(true);
    const dalle3 = createImagesApiEngine(settings(server, { IMAGES_API_MODEL: 'dall-e-3' }));
    expect(dalle3.supports('text-to-image', 'generate_image')).toBe(true);
    expect(dalle3.supports('instruct', 'edit')).toBe(false);
  });

  it('refuses to start without IMAGES_API_URL', () => {
    expect(() =>
      createImagesApiEngine({ IMAGES_API_URL: undefined, IMAGES_API_KEY: undefined, IMAGES_API_MODEL: 'gpt-image-1', IMAGES_API_TIMEOUT_MS: 1000 }),
    ).toThrow(SettingsError);
  });
});

describe('images-api engine: edits', () => {
  it('sends the picture as PNG with the words and no mask for instruct and image-to-image', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server));
    const { image } = await pictureAndMask(64, 48);
    for (const operation of ['instruct', 'image-to-image'] as const) {
      const result = await engine.generate(request({ operation, task: 'edit', prompt: 'make it winter', image, strength: 0.4 }), callbacks());
      expect(await colourAndSize(result.images[0]!.png)).toMatchObject({ width: 1024, height: 1024, ...colourOf('make it winter') });
    }
    expect(server.requests).toHaveLength(2);
    for (const sent of server.requests) {
      expect(sent.path).toBe('/v1/images/edits');
      expect(sent.fileFields).toEqual(['image']);
      expect(sent.images[0]).toMatchObject({ width: 64, height: 48, format: 'png' });
      expect(sent.mask).toBeUndefined();
      expect(sent.fields).toMatchObject({ model: 'gpt-image-1', prompt: 'make it winter', n: '1', size: '1024x1024' });
    }
  });

  it('turns our mask (white = repaint) into a PNG of the picture size whose alpha is 0 exactly where ours was white', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server));
    const { image, mask, maskRaw } = await pictureAndMask(64, 48);
    await engine.generate(request({ operation: 'inpaint', task: 'replace', prompt: 'a wooden bench', image, mask }), callbacks());

    const sent = server.requests[0]!;
    expect(sent.fileFields).toEqual(['image', 'mask']);
    expect(sent.mask).toMatchObject({ width: 64, height: 48, format: 'png' });
    const alpha = sent.mask!.alpha;
    const wrong: number[] = [];
    for (let i = 0; i < maskRaw.length; i++) if ((alpha[i] === 0) !== maskRaw[i]! >= 128 || (alpha[i] !== 0 && alpha[i] !== 255)) wrong.push(i);
    expect(wrong).toEqual([]);
    expect(alpha[0]).toBe(0);
    expect(alpha[1]).toBe(255);
  });
});

describe('images-api engine: failures', () => {
  it('calls an unreadable picture bad input (never retried) and sends nothing', async () => {
    const server = await start();
    const error = await createImagesApiEngine(settings(server))
      .generate(request({ operation: 'instruct', image: Buffer.from('not a picture at all') }), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptMediaError);
    expect(error).toMatchObject({ retryable: false });
    expect(server.requests).toHaveLength(0);
  });

  it('turns a moderation refusal into ContentBlockedError with a sentence for the user', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server));
    for (const mode of ['moderation', 'content-policy'] as const) {
      server.mode = mode;
      const error = await engine.generate(request(), callbacks()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ContentBlockedError);
      expect((error as ContentBlockedError).message).toBe(MODERATION_SENTENCE);
      expect((error as ContentBlockedError).retryable).toBe(false);
    }
  });

  it('turns 429 and 500 into a retryable EngineUnavailableError after one request (no retries inside the client)', async () => {
    const server = await start();
    const engine = createImagesApiEngine(settings(server));
    server.mode = 'rate-limit';
    const limited = await engine.generate(request(), callbacks()).catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(EngineUnavailableError);
    expect(limited).toMatchObject({ retryable: true, details: { engine: 'images-api', status: 429 } });
    expect((limited as Error).message).toContain('20 s');
    expect(server.requests).toHaveLength(1);

    server.mode = 'error-500';
    const failing = await engine.generate(request(), callbacks()).catch((e: unknown) => e);
    expect(failing).toMatchObject({ retryable: true, details: { status: 500 } });
    expect(failing).toBeInstanceOf(EngineUnavailableError);
  });

  it('does not retry a 429 that means the account is out of quota', async () => {
    const server = await start();
    server.mode = 'quota';
    const error = await createImagesApiEngine(settings(server))
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRejectedError);
    expect((error as Error).message).toContain('IMAGES_API_KEY');
  });

  it('names IMAGES_API_KEY on a 401 without repeating the wrong key', async () => {
    const server = await start();
    const wrong = 'sk-wrong-key-abcdef';
    const error = await createImagesApiEngine(settings(server, { IMAGES_API_KEY: wrong }))
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRejectedError);
    expect(error).toMatchObject({ retryable: false, details: { status: 401 } });
    expect((error as Error).message).toContain('IMAGES_API_KEY');
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(wrong);
  });

  it('names IMAGES_API_MODEL for an unknown model and IMAGES_API_URL for a wrong path', async () => {
    const server = await start();
    const model = await createImagesApiEngine(settings(server, { IMAGES_API_MODEL: 'no-such-model' }))
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(model).toBeInstanceOf(EngineRejectedError);
    expect((model as Error).message).toContain('IMAGES_API_MODEL=no-such-model');
    const url = await createImagesApiEngine(settings(server, { IMAGES_API_URL: server.url.replace(/\/v1$/, '/api') }))
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(url).toBeInstanceOf(EngineRejectedError);
    expect((url as Error).message).toContain('IMAGES_API_URL');
  });

  it("passes the server's message on for other 4xx (an edit on dall-e-3, which has none)", async () => {
    const server = await start();
    const error = await createImagesApiEngine(settings(server, { IMAGES_API_MODEL: 'dall-e-3' }))
      .generate(request({ operation: 'instruct', image: (await pictureAndMask(32, 32)).image }), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineRejectedError);
    expect((error as Error).message).toContain('image edits are not supported');
  });

  it('cancels: aborting the signal hangs up on the server and ends in JobCancelledError', async () => {
    const server = await start();
    server.mode = 'slow';
    const controller = new AbortController();
    const pending = createImagesApiEngine(settings(server))
      .generate(request(), callbacks(controller.signal))
      .catch((e: unknown) => e);
    const hungUp = server.nextClosedEarly();
    await waitFor(() => server.requests.length === 1);
    const abortedAt = Date.now();
    controller.abort();
    expect(await pending).toBeInstanceOf(JobCancelledError);
    // Promptly, not when the 20 s client timeout would have ended the request anyway.
    expect(Date.now() - abortedAt).toBeLessThan(2000);
    expect((await hungUp).closedEarly).toBe(true);
  });

  it('gives up after IMAGES_API_TIMEOUT_MS with a retryable error that names the setting', async () => {
    const server = await start();
    server.mode = 'slow';
    const started = Date.now();
    const error = await createImagesApiEngine(settings(server, { IMAGES_API_TIMEOUT_MS: 1000 }))
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toContain('IMAGES_API_TIMEOUT_MS');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('reports a server that is not there as unavailable', async () => {
    const port = await freePort();
    const error = await createImagesApiEngine({
      IMAGES_API_URL: `http://127.0.0.1:${port}/v1`,
      IMAGES_API_KEY: KEY,
      IMAGES_API_MODEL: 'gpt-image-1',
      IMAGES_API_TIMEOUT_MS: 5000,
    })
      .generate(request(), callbacks())
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineUnavailableError);
    expect((error as Error).message).toContain('IMAGES_API_URL');
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(condition()).toBe(true);
}
