import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EngineRejectedError } from '../../src/errors.ts';
import { BUILT_IN_WORKFLOWS_DIR, WorkflowLibrary, fillWorkflow, parseWorkflow } from '../../src/vision/engines/comfyui-workflows.ts';
import type { GenerationOperation } from '../../src/vision/engines/engine.ts';
import { type Prompt, validatePrompt } from '../fakes/comfyui/nodes.ts';
import { FAKE_MODELS } from '../fakes/comfyui/server.ts';

const library = new WorkflowLibrary(undefined);
const FILES = { models: new Set(FAKE_MODELS), inputs: new Set(['in.png', 'mask.png']) };
const VALUES = { prompt: 'a red fox', negative: 'blurry', seed: 42, steps: 3, width: 640, height: 384, strength: 0.5, image: 'in.png', mask: 'mask.png' };

const CASES: [GenerationOperation, string, string][] = [
  ['text-to-image', 'generate_image', 'generate_image.json'],
  ['image-to-image', 'vary', 'image_to_image.json'],
  ['image-to-image', 'style', 'style.json'],
  ['image-to-image', 'colorize', 'colorize.json'],
  ['inpaint', 'replace', 'inpaint.json'],
  ['inpaint', 'outpaint', 'outpaint.json'],
  ['instruct', 'edit', 'edit.json'],
];

describe('ComfyUI workflow templates', () => {
  it.each(CASES)('%s for %s uses %s, fills every placeholder and passes ComfyUI validation', (operation, task, file) => {
    const template = library.find(operation, task)!;
    expect(template.name).toBe(file);
    const prompt = fillWorkflow(template, VALUES);
    expect(JSON.stringify(Object.values(prompt).map((n) => n.inputs))).not.toContain('{{');
    expect(validatePrompt(prompt as Prompt, FILES)).toEqual({ ok: true, outputs: expect.any(Array) });
    const sampler = Object.values(prompt).find((n) => n.class_type === 'KSampler')!;
    expect(sampler.inputs.seed).toBe(42);
    expect(sampler.inputs.steps).toBe(3);
  });

  it('puts typed values where the placeholder is the whole value and text where it is part of one', () => {
    const colorize = fillWorkflow(library.find('image-to-image', 'colorize')!, { ...VALUES, negative: undefined, strength: undefined });
    expect(colorize['6']!.inputs.text).toBe('colorized photograph, natural realistic colors, a red fox');
    expect(colorize['7']!.inputs.text).toBe('black and white, monochrome, sepia, ');
    expect(colorize['3']!.inputs.denoise).toBe(0.45);
    const t2i = fillWorkflow(library.find('text-to-image', 'generate_image')!, { prompt: 'x', seed: 7, width: 512, height: 768 });
    expect(t2i['5']!.inputs).toEqual({ width: 512, height: 768, batch_size: 1 });
    expect(t2i['3']!.inputs.steps).toBe(4);
  });

  it('a request without a needed input is refused naming the file and the placeholder', () => {
    const inpaint = library.find('inpaint', 'inpaint')!;
    expect(() => fillWorkflow(inpaint, { prompt: 'x', seed: 1, image: 'in.png' })).toThrow(/inpaint\.json needs \{\{mask\}\}/);
  });

  it('an operation is not served by a template needing inputs it cannot have', () => {
    expect(library.find('text-to-image', 'edit')?.name).toBe('generate_image.json');
    expect(library.find('image-to-image', 'inpaint')?.name).toBe('image_to_image.json');
  });

  it('refuses unknown placeholders, the UI format and files without a prompt, naming the file', () => {
    const unknown = JSON.stringify({ '1': { class_type: 'CLIPTextEncode', inputs: { text: '{{promt}}' } } });
    expect(() => parseWorkflow('/x/mine.json', unknown)).toThrow(EngineRejectedError);
    expect(() => parseWorkflow('/x/mine.json', unknown)).toThrow(/mine\.json uses \{\{promt\}\}/);
    expect(() => parseWorkflow('/x/ui.json', JSON.stringify({ nodes: [], links: [] }))).toThrow(/Save \(API format\)/);
    expect(() => parseWorkflow('/x/none.json', JSON.stringify({ '1': { class_type: 'SaveImage', inputs: {} } }))).toThrow(/no \{\{prompt\}\}/);
    expect(() => parseWorkflow('/x/bad.json', '{')).toThrow(/bad\.json is not JSON/);
  });

  describe('operator folder', () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'comfy-workflows-'));
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    it('a <task>.json in COMFYUI_WORKFLOWS_DIR is used instead of ours; other tasks keep ours', async () => {
      await writeFile(
        path.join(dir, 'style.json'),
        JSON.stringify({
          '1': { class_type: 'CLIPTextEncode', inputs: { text: 'mine {{prompt}}' } },
          '2': { class_type: 'LoadImage', inputs: { image: '{{image}}' } },
        }),
      );
      const withOperator = new WorkflowLibrary(dir);
      expect(withOperator.find('image-to-image', 'style')!.file).toBe(path.join(dir, 'style.json'));
      expect(withOperator.find('image-to-image', 'colorize')!.file).toBe(path.join(BUILT_IN_WORKFLOWS_DIR, 'colorize.json'));
      expect(withOperator.find('image-to-image', 'sketchify')!.name).toBe('image_to_image.json');
    });
  });
});
