import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeOutcome } from '../../src/app/outcome-text.ts';
import { actionsFor } from '../../src/app/views.ts';
import { loadSettings } from '../../src/config/settings.ts';
import {
  BadInputError,
  InvalidArgumentError,
  JobCancelledError,
  ModelNotInstalledError,
  SettingsError,
  TaskNotAvailableError,
  VisionLlmBadResponseError,
  VisionLlmRejectedError,
  VisionLlmUnavailableError,
  deserializeError,
  serializeError,
} from '../../src/errors.ts';
import { LocalBlobStore } from '../../src/media/blob-store.ts';
import { createTaskReadiness, readiness } from '../../src/vision/readiness.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { answerSpecialist, captionSpecialist, videoFrameCount } from '../../src/vision/tasks/understand/caption-answer.ts';
import { frameTimes } from '../../src/vision/ops/video-frames.ts';
import { runJob } from '../../src/worker/job-runner.ts';
import { imagesOf, startFakeVisionServer, textOf, type FakeVisionServer } from '../fakes/openai-vision/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { freePort } from '../helpers/free-port.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, invocation, makeSpecialistContext, testRegistry, testSettings, videoMedia, type TestContext } from '../helpers/specialist-context.ts';
import { movingDiscClip } from './fixtures.ts';

const MODEL = 'qwen2.5vl:3b';

let server: FakeVisionServer;
const contexts: TestContext[] = [];

beforeAll(async () => {
  server = await startFakeVisionServer({ models: [MODEL] });
});
afterAll(async () => {
  await server.close();
});
afterEach(async () => {
  server.mode = 'describe';
  server.answer = undefined;
  server.requests.length = 0;
  await Promise.all(contexts.splice(0).map((c) => c.cleanup()));
});

async function context(env: NodeJS.ProcessEnv = {}): Promise<TestContext> {
  const c = await makeSpecialistContext({
    env: { VISION_LLM_URL: server.url, VISION_LLM_MODEL: MODEL, VISION_LLM_MAX_IMAGE_SIDE: '256', ...env },
  });
  contexts.push(c);
  return c;
}

async function photo(c: TestContext, name: string) {
  return imageMedia(c, await fs.readFile(testdata(name)), name);
}

function chatRequests() {
  return server.requests.filter((r) => r.path === '/v1/chat/completions');
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}

/** Mean x of the strongly red pixels: where the moving disc is in a frame. */
async function redCentroidX(jpeg: Buffer): Promise<number> {
  const { data, info } = await sharp(jpeg).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  let sum = 0;
  let n = 0;
  for (let i = 0; i < data.length; i += 3) {
    if (data[i]! > 120 && data[i + 1]! < 90 && data[i + 2]! < 90) {
      sum += (i / 3) % info.width;
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}

describe('caption and answer through an OpenAI-compatible vision endpoint', () => {
  it('captions a real photo: the image travels resized to VISION_LLM_MAX_IMAGE_SIDE, as a JPEG data URL', async () => {
    const c = await context();
    const media = await photo(c, 'chelsea.png'); // 451 × 300
    const result = await captionSpecialist.run(invocation('caption', media), c);

    expect(result.media).toEqual([]);
    expect(result.text).toMatch(/^image 1: 256x170 jpeg, dominant rgb\(/);
    const [request] = chatRequests();
    expect(request).toBeDefined();
    const body = request!.body;
    expect(body.model).toBe(MODEL);
    expect(body.max_tokens).toBe(120);
    expect(body.temperature).toBeLessThanOrEqual(0.2);
    expect(body.messages).toHaveLength(1);
    const content = body.messages[0].content;
    expect(content[0].type).toBe('text');
    expect(content[0].text).toMatch(/Describe this image in one or two sentences/);
    expect(content[1].type).toBe('image_url');
    expect(content[1].image_url.url).toMatch(/^data:image\/jpeg;base64,/);
    expect(request!.headers.authorization).toBeUndefined();
    expect(c.reports.at(-1)).toEqual({ fraction: 1, note: 'answered' });
  });

  it('sends what the photo shows: a red picture arrives red, a transparent one on white', async () => {
    const c = await context();
    const red = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#e01010' } })
      .png()
      .toBuffer();
    const clear = await sharp({ create: { width: 100, height: 100, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } })
      .png()
      .toBuffer();
    await captionSpecialist.run(invocation('caption', await imageMedia(c, red, 'red.png')), c);
    await captionSpecialist.run(invocation('caption', await imageMedia(c, clear, 'clear.png')), c);

    const [redSeen] = await imagesOf(chatRequests()[0]!.body);
    expect([redSeen!.width, redSeen!.height]).toEqual([256, 171]);
    expect(redSeen!.dominant.r).toBeGreaterThan(180);
    expect(redSeen!.dominant.g).toBeLessThan(60);
    const [clearSeen] = await imagesOf(chatRequests()[1]!.body);
    // Small images are never enlarged; transparency becomes white rather than JPEG's black.
    expect([clearSeen!.width, clearSeen!.height]).toEqual([100, 100]);
    expect(Math.min(clearSeen!.dominant.r, clearSeen!.dominant.g, clearSeen!.dominant.b)).toBeGreaterThan(230);
  });

  it('describes one region: the whole picture with the box drawn, then the region itself, and draws the box for the user', async () => {
    const c = await context();
    const media = await photo(c, 'chelsea.png'); // 451 × 300
    const result = await captionSpecialist.run(invocation('caption', media, { box: [300, 40, 100, 240] }), c);
    const [request] = chatRequests();
    const seen = await imagesOf(request!.body);
    expect(seen).toHaveLength(2);
    expect([seen[0]!.width, seen[0]!.height]).toEqual([256, 170]);
    // The region is 200 × 200 pixels of the photo: sent whole, not squeezed into the overview.
    expect([seen[1]!.width, seen[1]!.height]).toEqual([200, 200]);
    expect(textOf(request!.body)).toMatch(/Describe what is inside the box/);
    expect(result.text).toMatch(/^In the box 100,40,300,240: image 1: /);
    expect(result.boxes).toEqual([{ x1: 100, y1: 40, x2: 300, y2: 240, label: 'region' }]);
    expect(result.media.map((m) => m.role)).toEqual(['overlay']);
  });

  it('refuses a region on a video, or one outside the picture, before calling the endpoint', async () => {
    const c = await context();
    const clip = await videoMedia(c, await movingDiscClip(c.tmpDir, 4, 64, 48, 5));
    const onVideo = await failure(captionSpecialist.run(invocation('caption', clip, { box: [0, 0, 10, 10] }), c));
    expect(onVideo).toBeInstanceOf(InvalidArgumentError);
    expect(onVideo.message).toMatch(/grab the frame at 3 seconds/);
    const outside = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'chelsea.png'), { box: [500, 400, 600, 500] }), c));
    expect(outside).toBeInstanceOf(InvalidArgumentError);
    expect(outside.message).toMatch(/does not cover any of the picture, which is 451×300/);
    expect(chatRequests()).toHaveLength(0);
  });

  it('asks for a detailed caption with more room to answer', async () => {
    const c = await context();
    await captionSpecialist.run(invocation('caption', await photo(c, 'horse.png'), { detail: 'detailed' }), c);
    const body = chatRequests()[0]!.body;
    expect(body.max_tokens).toBe(400);
    expect(textOf(body)).toMatch(/Describe this image in detail/);
  });

  it("answer passes the question and returns the model's words as the text", async () => {
    const c = await context();
    server.answer = (body) => (textOf(body).includes('Question: what animal is this?') ? 'A cat.' : 'no question arrived');
    const result = await answerSpecialist.run(invocation('answer', await photo(c, 'chelsea.png'), { question: '  what animal is this? ' }), c);
    expect(result).toEqual({ media: [], text: 'A cat.' });
    expect(chatRequests()[0]!.body.max_tokens).toBe(300);
  });

  it('refuses bad arguments before calling the endpoint', async () => {
    const c = await context();
    const media = await photo(c, 'horse.png');
    const noQuestion = await failure(answerSpecialist.run(invocation('answer', media), c));
    expect(noQuestion).toBeInstanceOf(InvalidArgumentError);
    expect(noQuestion.message).toContain('answer needs a question');
    const badDetail = await failure(captionSpecialist.run(invocation('caption', media, { detail: 'medium' }), c));
    expect(badDetail.message).toBe('Expected one of short, detailed for detail but received "medium".');
    const unknown = await failure(captionSpecialist.run(invocation('caption', media, { factor: 2 }), c));
    expect(unknown).toBeInstanceOf(InvalidArgumentError);
    expect(chatRequests()).toHaveLength(0);
  });

  it('sends a video as evenly spread frames, in order, and says so in the prompt', { timeout: 180_000 }, async () => {
    const c = await context();
    const clip = await movingDiscClip(c.tmpDir, 6, 320, 160, 5); // 1.2 s; the disc moves left to right
    const media = await videoMedia(c, clip);
    const result = await captionSpecialist.run(invocation('caption', media), c);

    expect(result.media).toEqual([]);
    const body = chatRequests()[0]!.body;
    const images = await imagesOf(body);
    expect(images).toHaveLength(4);
    for (const im of images) expect([im.width, im.height, im.format]).toEqual([256, 128, 'jpeg']);
    const xs = await Promise.all(images.map((im) => redCentroidX(im.bytes)));
    for (let i = 1; i < xs.length; i++) expect(xs[i]!, `frame ${i} after frame ${i - 1}`).toBeGreaterThan(xs[i - 1]! + 5);
    expect(textOf(body)).toMatch(/The 4 pictures are frames from one video, in time order, taken at 0\.2 s, 0\.5 s, 0\.8 s, 1(\.1)? s/);
    expect(textOf(body)).toMatch(/Describe this video/);
    expect(c.reports.some((r) => r.note === 'taking frames')).toBe(true);
  });

  it('spreads 4 to 8 frames over a video, never more than it has', () => {
    expect(videoFrameCount(1)).toBe(4);
    expect(videoFrameCount(11)).toBe(6);
    expect(videoFrameCount(120)).toBe(8);
    expect(videoFrameCount(120, 3)).toBe(3);
    expect(frameTimes(8, 4)).toEqual([1, 3, 5, 7]);
  });
});

describe('vision endpoint failures are typed', () => {
  it('a 500 is a retryable VisionLlmUnavailableError, not bad input', async () => {
    const c = await context();
    server.mode = 'error-500';
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).not.toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'VISION_LLM_UNAVAILABLE', retryable: true, details: { status: 500 } });
    expect(error.message).toContain('HTTP 500: llama runner process has terminated');
  });

  it('an endpoint slower than VISION_LLM_TIMEOUT_MS is a retryable timeout, and the request is dropped', async () => {
    const c = await context({ VISION_LLM_TIMEOUT_MS: '1000' });
    server.mode = 'slow';
    const closed = server.nextClosedEarly();
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toContain('did not answer within 1 s');
    expect(error.message).toContain('VISION_LLM_TIMEOUT_MS');
    expect((await closed).path).toBe('/v1/chat/completions');
  });

  it('an endpoint nobody listens on is retryable and says it is not reachable', async () => {
    const c = await context({ VISION_LLM_URL: `http://127.0.0.1:${await freePort()}/v1` });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toBe('The vision model server is not reachable (ECONNREFUSED); try again in a moment.');
  });

  it('an unknown model (404) is not retried, names VISION_LLM_MODEL and the models the server has', async () => {
    const c = await context({ VISION_LLM_MODEL: 'llava-missing' });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmRejectedError);
    expect(error).toMatchObject({ code: 'VISION_LLM_REJECTED', retryable: false, details: { status: 404 } });
    expect(error.message).toContain('does not serve the model "llava-missing"');
    expect(error.message).toContain('model "llava-missing" not found, try pulling it first');
    expect(error.message).toContain(`set VISION_LLM_MODEL to one it serves (${MODEL})`);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/chat/completions', 'GET /v1/models']);
  });

  it.each([
    ['malformed-json', /not JSON \("\{\\"id\\":\\"chatcmpl-1\\"/],
    ['wrong-shape', /not an OpenAI chat completion \(problem at choices\)/],
    ['empty', /returned an empty answer/],
  ] as const)('a %s answer is a VisionLlmBadResponseError', async (mode, message) => {
    const c = await context();
    server.mode = mode;
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmBadResponseError);
    expect(error).toMatchObject({ code: 'VISION_LLM_BAD_RESPONSE', retryable: false });
    expect(error.message).toMatch(message);
  });

  it('keep their meaning across the worker-thread boundary: transient stays retryable, a set-up fault is no user error', () => {
    const across = (e: Error) => deserializeError(serializeError(e));
    const busy = across(new VisionLlmUnavailableError('busy', { status: 503 }));
    expect(busy).toMatchObject({ code: 'VISION_LLM_UNAVAILABLE', retryable: true });
    const rejected = across(new VisionLlmRejectedError('unknown model; set VISION_LLM_MODEL', 404));
    expect(rejected).toMatchObject({ code: 'VISION_LLM_REJECTED', retryable: false, message: 'unknown model; set VISION_LLM_MODEL' });
    expect(rejected).not.toBeInstanceOf(BadInputError);
    expect(across(new VisionLlmBadResponseError('not JSON'))).not.toBeInstanceOf(BadInputError);
  });

  it('cancelling the job stops the request at once', async () => {
    const c = await context();
    server.mode = 'slow';
    const arrived = server.nextChatRequest();
    const closed = server.nextClosedEarly();
    const running = failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    await arrived;
    c.abort();
    expect(await running).toBeInstanceOf(JobCancelledError);
    expect((await closed).closedEarly).toBe(true);
  });
});

describe('the API key', () => {
  const KEY = 'sk-test-7f3a9c41e2b8';
  let keyed: FakeVisionServer;
  beforeAll(async () => {
    keyed = await startFakeVisionServer({ models: [MODEL], apiKey: KEY });
  });
  afterAll(async () => {
    await keyed.close();
  });

  it('is sent as a Bearer token, and only in the Authorization header', async () => {
    const c = await context({ VISION_LLM_URL: keyed.url, VISION_LLM_API_KEY: KEY });
    const result = await captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c);
    expect(result.text).toMatch(/^image 1: /);
    const request = keyed.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(request.body)).not.toContain(KEY);
  });

  it('never appears in an error, even when the server quotes it back', async () => {
    const wrong = 'sk-wrong-0b9d77aa31c5';
    const c = await context({ VISION_LLM_URL: keyed.url, VISION_LLM_API_KEY: wrong });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmRejectedError);
    expect(error).toMatchObject({ retryable: false, details: { status: 401 } });
    expect(error.message).toContain('VISION_LLM_API_KEY');
    expect(error.message).toContain('Incorrect API key provided: Bearer [key]');
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(String(error.stack)).not.toContain(wrong);
  });
});

describe('without an endpoint', () => {
  it('answer without an endpoint says this build cannot do it yet; caption names Florence-2 to pull, and both name VISION_LLM_URL', async () => {
    const c = await makeSpecialistContext();
    contexts.push(c);
    const media = await imageMedia(c, await fs.readFile(testdata('horse.png')));
    const answer = await failure(answerSpecialist.run(invocation('answer', media, { question: 'what is it?' }), c));
    // No code here runs a local question-answering model, so the way is the endpoint, not a pull.
    expect(answer).toBeInstanceOf(TaskNotAvailableError);
    expect(answer.message).toContain('VISION_LLM_URL');
    const caption = await failure(captionSpecialist.run(invocation('caption', media), c));
    expect(caption).toBeInstanceOf(ModelNotInstalledError);
    expect(caption.message).toContain('npm run models -- pull florence-2-base');
    expect(caption.message).toContain('VISION_LLM_URL');
  });

  it('readiness says answer is ready only when VISION_LLM_URL is set, caption when it is or Florence-2 is pulled', () => {
    const settings = testSettings();
    const configured = testSettings({ VISION_LLM_URL: server.url, VISION_LLM_MODEL: MODEL });
    const { models } = testRegistry();
    const without = readiness(models, settings).tasks.find((t) => t.task === 'answer')!;
    expect(without).toMatchObject({ ready: false, reason: 'set VISION_LLM_URL' });
    const withUrl = readiness(models, configured).tasks.find((t) => t.task === 'answer')!;
    expect(withUrl).toMatchObject({ ready: true, models: [], missing: [] });

    expect(() => createTaskReadiness(settings).check('caption', ['image'])).toThrow(ModelNotInstalledError);
    expect(() => createTaskReadiness(settings).check('answer', ['image'])).toThrow(TaskNotAvailableError);
    expect(() => createTaskReadiness(configured).check('caption', ['image', 'video'])).not.toThrow();
    expect(() => createTaskReadiness(configured).check('answer', ['image', 'video'])).not.toThrow();
  });
});

describe('a text-only result, end to end through the job runner', () => {
  it('stores no media and the bot shows the text alone, with no buttons', async () => {
    const c = await context();
    const blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-blobs-'));
    try {
      const blobs = new LocalBlobStore(blobDir);
      const png = await fs.readFile(testdata('chelsea.png'));
      const { sha256, bytes } = await blobs.put(png);
      server.answer = () => 'A tabby cat sitting by a window.';
      const outcome = await runJob(
        {
          jobId: 'job-text-only-1',
          conversationId: 'conv-1',
          steps: [
            {
              targets: [{ media: { id: 'm1', sha256, kind: 'image', mime: 'image/png', bytes, width: 451, height: 300 } }],
              invocation: { task: 'caption', targets: [], args: {} },
            },
          ],
        },
        { settings: c.settings, blobs, models: c.models, ffmpeg: c.ffmpeg, limits: c.limits, specialistFor: (t) => specialistFor(t)!, tmpRoot: c.tmpDir },
        { signal: new AbortController().signal, progress: () => {} },
      );
      expect(outcome.steps).toEqual([{ task: 'caption', media: [], text: 'A tabby cat sitting by a window.', boxes: undefined }]);
      expect(describeOutcome(outcome, [], () => 'unused')).toBe('A tabby cat sitting by a window.');
      expect(actionsFor([], false)).toEqual([]);
    } finally {
      await fs.rm(blobDir, { recursive: true, force: true });
    }
  });
});

describe('a caption through the whole bot', () => {
  it('answers "what is in this picture?" with the endpoint\'s words and no picture', { timeout: 180_000 }, async () => {
    const harness = await startTestBot({ VISION_LLM_URL: server.url, VISION_LLM_MODEL: MODEL });
    try {
      const { bot } = harness.running;
      const user = testUser();
      const view = await bot.startConversation({ user, title: 'caption' });
      const events = new EventRecorder();
      bot.subscribe(view.id, events.listener);
      server.answer = (_body, images) => `A photo of a cat (${images[0]!.width}x${images[0]!.height}).`;
      const turn = await bot.handleTurn({
        conversationId: view.id,
        user,
        text: 'what is in this picture?',
        files: [{ name: 'cat.png', bytes: await fs.readFile(testdata('chelsea.png')) }],
      });
      const finished = await events.finished(turn);
      expect(finished.job.state).toBe('succeeded');
      // Default VISION_LLM_MAX_IMAGE_SIDE (1024) leaves the 451 × 300 photo as it is.
      expect(finished.turn.text).toBe('A photo of a cat (451x300).');
      expect(finished.turn.media).toEqual([]);
      expect(finished.turn.actions ?? []).toEqual([]);
    } finally {
      await harness.cleanup();
    }
  });
});

describe('endpoint jobs beside the inference thread', () => {
  it('keeps edits moving while a slow endpoint thinks: the question never holds the only inference thread', { timeout: 180_000 }, async () => {
    // The server would answer only after ten minutes: had the question taken the one inference thread, the
    // edit could not finish before it, and this test would run out of time.
    const harness = await startTestBot({
      VISION_LLM_URL: server.url,
      VISION_LLM_MODEL: MODEL,
      WORKER_THREADS: '1',
      VISION_LLM_TIMEOUT_MS: '600000',
      JOB_TIMEOUT_SECONDS: '900',
    });
    const slowMs = server.slowMs;
    try {
      const { bot } = harness.running;
      server.mode = 'slow';
      server.slowMs = 600_000;
      const asker = testUser();
      const asking = await bot.startConversation({ user: asker, title: 'slow question' });
      const askerEvents = new EventRecorder();
      bot.subscribe(asking.id, askerEvents.listener);
      const question = await bot.handleTurn({
        conversationId: asking.id,
        user: asker,
        text: 'what is in this picture?',
        files: [{ name: 'cat.png', bytes: await fs.readFile(testdata('chelsea.png')) }],
      });
      expect(question.job).toBeDefined();
      await expect.poll(() => chatRequests().length, { timeout: 60_000 }).toBe(1);

      const editor = testUser();
      const editing = await bot.startConversation({ user: editor, title: 'edit meanwhile' });
      const editorEvents = new EventRecorder();
      bot.subscribe(editing.id, editorEvents.listener);
      const edit = await bot.handleTurn({
        conversationId: editing.id,
        user: editor,
        text: 'make it black and white',
        files: [{ name: 'horse.png', bytes: await fs.readFile(testdata('horse.png')) }],
      });
      const edited = await editorEvents.finished(edit);
      expect(edited.job.state).toBe('succeeded');
      // The question is still waiting on the server: it ran beside the edit, not in front of it.
      expect(askerEvents.events.some((e) => e.type === 'job.finished')).toBe(false);

      await bot.handleTurn({ conversationId: asking.id, user: asker, text: 'cancel', files: [] });
      expect((await askerEvents.finished(question)).job.state).toBe('cancelled');
    } finally {
      server.slowMs = slowMs;
      await harness.cleanup();
    }
  });
});

describe('vision endpoint settings', () => {
  it.each([
    [
      { VISION_LLM_URL: 'localhost:11434/v1' },
      'Setting VISION_LLM_URL: expected a URL starting with http:// or https://, without user:password@, received "localhost:11434/v1"',
    ],
    [
      { VISION_LLM_URL: 'http://localhost:11434/v1' },
      'Setting VISION_LLM_MODEL: expected the model to ask at VISION_LLM_URL (qwen2.5vl:3b, llava) when VISION_LLM_URL is set, received nothing',
    ],
    [
      { VISION_LLM_URL: 'http://localhost/v1', VISION_LLM_MODEL: 'qwen 2.5' },
      'Setting VISION_LLM_MODEL: expected a model name without spaces, as the server lists it (qwen2.5vl:3b, llava), received "qwen 2.5"',
    ],
    [{ VISION_LLM_TIMEOUT_MS: 'soon' }, 'Setting VISION_LLM_TIMEOUT_MS: expected an integer from 1000 to 3600000, received "soon"'],
    [{ VISION_LLM_MAX_IMAGE_SIDE: '16' }, 'Setting VISION_LLM_MAX_IMAGE_SIDE: expected an integer from 64 to 8192, received "16"'],
    [
      { VISION_LLM_API_KEY: 'sk-has a space' },
      'Setting VISION_LLM_API_KEY: expected an API key: printable characters, no spaces, received a value of 14 characters (not shown)',
    ],
  ])('stops start-up with one line naming the setting: %o', (env, message) => {
    const error = (() => {
      try {
        loadSettings(env);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as Error).message).toBe(message);
  });

  it('keeps a user:password URL out of fetch, drops a trailing slash, and has defaults', () => {
    expect(() => loadSettings({ VISION_LLM_URL: 'http://me:pw@host/v1', VISION_LLM_MODEL: 'llava' })).toThrow(/Setting VISION_LLM_URL/);
    const settings = loadSettings({ VISION_LLM_URL: 'http://localhost:11434/v1/', VISION_LLM_MODEL: 'llava' });
    expect(settings.VISION_LLM_URL).toBe('http://localhost:11434/v1');
    expect(settings.VISION_LLM_TIMEOUT_MS).toBe(120_000);
    expect(settings.VISION_LLM_MAX_IMAGE_SIDE).toBe(1024);
    expect(settings.VISION_LLM_API_KEY).toBeUndefined();
  });
});
