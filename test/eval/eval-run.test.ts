import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { inpaintSection, HOLE_SSIM } from '../../eval/inpaint.ts';
import { runEval } from '../../eval/runner.ts';
import { readMeasuredQuality } from '../../src/vision/models/measured-quality.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';
import { chooseInpainter } from '../../src/vision/models/inpainter-choice.ts';
import { installFixtureModel } from '../fixtures/onnx-models.ts';
import { requires } from '../helpers/prerequisites.ts';
import { testSettings } from '../helpers/specialist-context.ts';

/**
 * The cheapest section end to end, with a pulled model installed as a fixture graph (MI-GAN): its row stands
 * beside OpenCV's, is flagged as fixture weights, is stored for this machine, and model choice reads it back.
 */
(await requires('testdata')).describe('npm run eval: the inpaint section end to end', () => {
  let dir: string;
  const lines: string[] = [];
  let outcome: Awaited<ReturnType<typeof runEval>>;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-eval-'));
    await installFixtureModel(path.join(dir, 'models'), 'migan');
    vi.stubEnv('MODELS_DIR', path.join(dir, 'models'));
    vi.stubEnv('DATA_DIR', path.join(dir, 'data'));
    vi.stubEnv('INFERENCE_THREADS', '2');
    outcome = await runEval([inpaintSection], path.join(dir, 'data'), (line) => lines.push(line));
  }, 300_000);
  afterAll(async () => {
    vi.unstubAllEnvs();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('prints one titled block with a row per ready inpainter, each with PSNR and SSIM in the hole; the fixture is flagged', () => {
    expect(outcome.failed).toEqual([]);
    expect(lines[0]!.trim()).toBe('== remove / inpaint: inside the hole against the true pixels painted over (mean of 3 holes) ==');
    const rows = lines.filter((l) => /^ {2}(opencv-telea|migan) /.test(l));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toMatch(/PSNR dB in hole \d+\.\d{2} {2}SSIM in hole -?\d\.\d{3}/);
    expect(rows.find((r) => r.startsWith('  migan'))).toMatch(/\(fixture weights\)$/);
    expect(rows.find((r) => r.startsWith('  opencv-telea'))).not.toMatch(/fixture/);
  });

  it('stores both scores for this machine, and chooseInpainter then takes the better measured one', () => {
    expect(outcome.storedIn).toBe(path.join(dir, 'data', 'eval', 'quality.json'));
    const stored = readMeasuredQuality(path.join(dir, 'data')).comparisons.inpaint!;
    expect(stored.metric).toBe(HOLE_SSIM);
    expect(Object.keys(stored.scores).sort()).toEqual(['migan', 'opencv-telea']);
    expect(stored.scores.migan!.fixture).toBe(true);
    const printed = (way: string) => Number(/SSIM in hole (-?\d\.\d{3})/.exec(lines.find((l) => l.startsWith(`  ${way} `))!)![1]);
    expect(stored.scores.migan!.value).toBeCloseTo(printed('migan'), 3);

    const better = stored.scores.migan!.value > stored.scores['opencv-telea']!.value ? 'migan' : 'opencv-telea';
    const settings = testSettings({ MODELS_DIR: path.join(dir, 'models'), DATA_DIR: path.join(dir, 'data') });
    const models = new ModelRegistry({ settings });
    expect(models.isInstalled('migan')).toBe(true);
    expect(chooseInpainter(models).name).toBe(better);
    // The operator's word still wins over the numbers.
    const preferring = new ModelRegistry({ settings: { ...settings, PREFER_MODELS: ['migan'] } });
    expect(chooseInpainter(preferring).name).toBe('migan');
  });
});
