import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, JobCancelledError, ModelNotInstalledError } from '../../src/errors.ts';
import { clipTokenizer } from '../../src/vision/models/clip-tokenizer.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { toRaw } from '../../src/vision/ops/raw-image.ts';
import type { RawImage } from '../../src/vision/ops/raw-image.ts';
import { FLORENCE_MODEL, florencePrompt, runFlorence } from '../../src/vision/models/florence.ts';
import { FLORENCE_HIDDEN, FLORENCE_IMAGE_TOKENS, florenceFixtureTokenizer, installFlorenceFixture } from '../fixtures/florence-fixture.ts';
import type { FlorenceFixtureOptions } from '../fixtures/florence-fixture.ts';
import { testSettings } from '../helpers/specialist-context.ts';
import { recordingRegistry } from '../helpers/recording-registry.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

const HEAVY = { timeout: 180_000 };

interface DecoderCall {
  useCache: boolean;
  decoderPast: readonly number[];
  encoderPast: readonly number[];
  encoderStates: readonly number[];
}

/** What reached each graph, in order. */
interface Recorded {
  embedded: number[][];
  encoderInput: (readonly number[])[];
  decoder: DecoderCall[];
}

const dirs: string[] = [];
const registries: ModelRegistry[] = [];

/** A registry over a fresh fixture whose sessions record their feeds. */
async function recordingFixture(options?: FlorenceFixtureOptions): Promise<{ models: ModelRegistry; recorded: Recorded }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-florence-'));
  dirs.push(dir);
  await installFlorenceFixture(dir, options);
  const recorded: Recorded = { embedded: [], encoderInput: [], decoder: [] };
  const models = recordingRegistry(testSettings({ MODELS_DIR: dir }), ({ file, feeds }) => {
    if (file === 'embed_tokens.onnx') recorded.embedded.push(Array.from(feeds['input_ids']!.data as BigInt64Array, Number));
    if (file === 'encoder_model.onnx') recorded.encoderInput.push(feeds['inputs_embeds']!.dims);
    if (file === 'decoder_model_merged.onnx') {
      recorded.decoder.push({
        useCache: !!(feeds['use_cache_branch']!.data as unknown as ArrayLike<boolean | number>)[0],
        decoderPast: feeds['past_key_values.0.decoder.key']!.dims,
        encoderPast: feeds['past_key_values.0.encoder.key']!.dims,
        encoderStates: feeds['encoder_hidden_states']!.dims,
      });
    }
  });
  registries.push(models);
  return { models, recorded };
}

afterAll(async () => {
  await Promise.all(registries.map((r) => r.dispose()));
  await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
});

describe('Florence-2 prompts', () => {
  it('swaps task tokens for the processor sentences, with the phrase where the task takes one', () => {
    expect(florencePrompt('<CAPTION>')).toBe('What does the image describe?');
    expect(florencePrompt('<OD>')).toBe('Locate the objects with category name in the image.');
    expect(florencePrompt('<OCR_WITH_REGION>')).toBe('What is the text in the image, with regions?');
    expect(florencePrompt('<CAPTION_TO_PHRASE_GROUNDING>', ' a cat on a sofa ')).toBe('Locate the phrases in the caption: a cat on a sofa');
  });

  it('refuses a grounding task without a phrase, saying what to give', () => {
    expect(() => florencePrompt('<CAPTION_TO_PHRASE_GROUNDING>', '  ')).toThrow(InvalidArgumentError);
  });
});

photos.describe('Florence-2 on the fixture model', () => {
  let image: RawImage;
  let models: ModelRegistry;
  let recorded: Recorded;

  beforeAll(async () => {
    image = await toRaw(sharp(testdata('chelsea.png')));
    ({ models, recorded } = await recordingFixture());
  });

  it('decodes the scripted answer and reads it as a labelled box in the image pixels', HEAVY, async () => {
    const result = await runFlorence(models, image, '<OD>');
    expect(result.text).toBe('<s>cat<loc_100><loc_200><loc_300><loc_400>');
    expect(result.truncated).toBe(false);
    expect(result.parsed.kind).toBe('boxes');
    if (result.parsed.kind !== 'boxes') return;
    // chelsea.png is 451×300; bin N stands for its centre, (N + 0.5) / 1000 of the side.
    expect(result.parsed.boxes).toHaveLength(1);
    const [box] = result.parsed.boxes;
    expect(box!.label).toBe('cat');
    expect(box!.x1).toBeCloseTo(100.5 * 0.451, 3);
    expect(box!.y1).toBeCloseTo(200.5 * 0.3, 3);
    expect(box!.x2).toBeCloseTo(300.5 * 0.451, 3);
    expect(box!.y2).toBeCloseTo(400.5 * 0.3, 3);
  });

  it('encodes the image tokens before the prompt tokens, the prompt wrapped in <s> … </s>', HEAVY, async () => {
    recorded.embedded.length = 0;
    recorded.encoderInput.length = 0;
    await runFlorence(models, image, '<CAPTION_TO_PHRASE_GROUNDING>', 'a cat');
    const tokenizer = await clipTokenizer(models, FLORENCE_MODEL);
    const expected = (tokenizer('Locate the phrases in the caption: a cat', { return_tensor: false }) as { input_ids: number[] }).input_ids;
    expect(recorded.embedded[0]).toEqual(expected);
    expect(expected[0]).toBe(0);
    expect(expected.at(-1)).toBe(2);
    expect(recorded.encoderInput).toEqual([[1, FLORENCE_IMAGE_TOKENS + expected.length, FLORENCE_HIDDEN]]);
    // Decoding starts from decoder_start_token_id (</s> = 2), then feeds back each token it chose.
    const vocab = florenceFixtureTokenizer().vocab;
    expect(recorded.embedded.slice(1)).toEqual([
      [2],
      [vocab['<s>']!],
      [vocab['cat']!],
      [vocab['<loc_100>']!],
      [vocab['<loc_200>']!],
      [vocab['<loc_300>']!],
      [vocab['<loc_400>']!],
    ]);
  });

  it('runs the decoder without the cache first, then with it, the self-attention past growing by one per step', HEAVY, async () => {
    recorded.decoder.length = 0;
    await runFlorence(models, image, '<OD>');
    const calls = recorded.decoder;
    // Six tokens, then </s>.
    expect(calls).toHaveLength(7);
    expect(calls.map((c) => c.useCache)).toEqual([false, true, true, true, true, true, true]);
    expect(calls.map((c) => c.decoderPast)).toEqual(calls.map((_, step) => [1, 1, step, FLORENCE_HIDDEN]));
    const encoderLength = calls[0]!.encoderStates[1]!;
    expect(calls[0]!.encoderPast).toEqual([1, 1, 0, FLORENCE_HIDDEN]);
    // The cross-attention cache is made once, from the encoder, and passed on unchanged.
    for (const call of calls.slice(1)) expect(call.encoderPast).toEqual([1, 1, encoderLength, FLORENCE_HIDDEN]);
  });

  it('stops between decoder steps when the job is cancelled', HEAVY, async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(runFlorence(models, image, '<OD>', undefined, controller.signal)).rejects.toBeInstanceOf(JobCancelledError);
  });
});

describe('Florence-2 that never writes </s>', () => {
  it('stops at the token limit and says the answer was cut', HEAVY, async () => {
    const { models, recorded } = await recordingFixture({ script: ['<s>', 'cat', 'dog'] });
    const image: RawImage = { data: Buffer.alloc(32 * 24 * 3, 90), width: 32, height: 24, channels: 3 };
    const result = await runFlorence(models, image, '<CAPTION>', undefined, undefined, { maxNewTokens: 5 });
    expect(result.truncated).toBe(true);
    expect(result.text).toBe('<s>catdogdogdog');
    expect(result.parsed).toEqual({ kind: 'text', text: 'catdogdogdog' });
    expect(recorded.decoder).toHaveLength(5);
  });
});

describe('Florence-2 not installed', () => {
  it('answers with the exact pull command', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-florence-'));
    dirs.push(dir);
    const models = new ModelRegistry({ settings: testSettings({ MODELS_DIR: dir }) });
    registries.push(models);
    const image: RawImage = { data: Buffer.alloc(8 * 8 * 3), width: 8, height: 8, channels: 3 };
    const error = await runFlorence(models, image, '<CAPTION>', undefined, undefined, { task: 'caption' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotInstalledError);
    expect((error as Error).message).toBe("This server can't describe pictures yet — ask its admin to enable captions.");
    expect((error as ModelNotInstalledError).operatorHint).toContain('npm run models -- pull florence-2-base');
  });
});
