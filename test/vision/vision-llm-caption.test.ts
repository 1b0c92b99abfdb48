import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/errors.ts';
import { frameTimes } from '../../src/vision/ops/video-frames.ts';
import { answerSpecialist, captionSpecialist, videoFrameCount } from '../../src/vision/tasks/understand/caption-answer.ts';
import { type FakeVisionServer, imagesOf, textOf } from '../fakes/openai-vision/server.ts';
import { imageMedia, invocation, type TestContext, videoMedia } from '../helpers/specialist-context.ts';
import { movingDiscClip } from './fixtures.ts';
import { useFakeEndpoint, chatRequestsOf, endpointContext, failure, MODEL, photo } from './vision-llm-endpoint.ts';

let server: FakeVisionServer;
const contexts: TestContext[] = [];

useFakeEndpoint(contexts, (started) => {
  server = started;
});

const context = (env?: NodeJS.ProcessEnv) => endpointContext(server, contexts, env);
const chatRequests = () => chatRequestsOf(server);

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
  it('captions a real photo: the image travels resized to LLM_MAX_IMAGE_SIDE, as a JPEG data URL', async () => {
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
