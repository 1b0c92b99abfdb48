import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pulledSection } from '../../bench/pulled.ts';
import { installClipsegFixture } from '../fixtures/clipseg-fixture.ts';
import { installFlorenceFixture } from '../fixtures/florence-fixture.ts';
import { installFixtureModel } from '../fixtures/onnx-models.ts';
import { installOwlvitFixture } from '../fixtures/owlvit-fixture.ts';
import { installSamFixture } from '../fixtures/sam-fixture.ts';
import { lineWith, numbersIn } from '../helpers/report-lines.ts';

/**
 * `npm run bench -- pulled` on the fixtures: every pulled model gets its row and its reference row with
 * real timings, and the report says the files are not the real weights. It checks the report's shape,
 * never a speed.
 */

const saved = process.env.MODELS_DIR;
const dirs: string[] = [];

afterEach(async () => {
  if (saved === undefined) delete process.env.MODELS_DIR;
  else process.env.MODELS_DIR = saved;
  await Promise.all(dirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function modelsDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-bench-pulled-'));
  dirs.push(dir);
  process.env.MODELS_DIR = dir;
  return dir;
}

const MODELS = ['slimsam-77', 'clipseg-rd64', 'owlvit-base', 'florence-2-base', 'migan', 'lama', 'swin2sr-x2', 'depth-anything-v2-small'];

describe('bench: pulled models', () => {
  it('says how to pull each model that is not installed, and times nothing', async () => {
    await modelsDir();
    const report = await pulledSection.run({ runs: 1, warmup: 0 });
    for (const model of MODELS) expect(lineWith(report.lines, new RegExp(`^  ${model}:`))).toMatch(`not installed — npm run models -- pull ${model}`);
    expect(report.lines.some((l) => /\bms\b/.test(l))).toBe(false);
  });

  it('times each installed model against its reference, and flags fixture-sized files', async () => {
    const dir = await modelsDir();
    await installSamFixture(dir);
    await installClipsegFixture(dir);
    await installOwlvitFixture(dir);
    await installFlorenceFixture(dir);
    for (const name of ['migan', 'lama', 'swin2sr-x2', 'depth-anything-v2-small'] as const) await installFixtureModel(dir, name);
    const report = await pulledSection.run({ runs: 1, warmup: 0 });
    for (const model of MODELS) expect(lineWith(report.lines, new RegExp(`^  ${model}:`))).toMatch(/not the real weights/);
    const timed = (pattern: RegExp) => {
      const line = lineWith(report.lines, pattern);
      const [median] = numbersIn(line.slice(line.lastIndexOf('  ', 60)));
      expect(median, line).toBeGreaterThan(0);
      return line;
    };
    timed(/segment_at, a new picture/);
    timed(/reference: segment_at again on a seen picture/);
    expect(timed(/segment "the sky" \(CLIPSeg/)).toMatch(/× COCO path/);
    expect(timed(/ground "the flag" \(OWL-ViT/)).toMatch(/× CenterNet/);
    expect(timed(/caption \(Florence-2/)).toMatch(/× CenterNet detect/);
    expect(timed(/inpaint 80² hole with migan/)).toMatch(/× OpenCV/);
    expect(timed(/inpaint 80² hole with lama/)).toMatch(/× OpenCV/);
    expect(timed(/upscale ×2 with Swin2SR/)).toMatch(/× ESRGAN-slim/);
    expect(timed(/depth map \(Depth Anything/)).toMatch(/× ISNet cut-out/);
    expect(report.lines.some((l) => /no bench case yet/.test(l))).toBe(false);
  }, 600_000);
});
