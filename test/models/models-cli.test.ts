import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { closeHubs, startHub } from './fake-hub.ts';
import { bytes, removeTmpDirs, tmpDir } from './pull-fixtures.ts';

// Hubs and directories last one test: closed and removed after each.
afterEach(async () => {
  await closeHubs();
  await removeTmpDirs();
});

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('models CLI', () => {
  function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'models/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('list shows which model each task will use, what to pull for tasks without one, and that an unmeasured pulled inpainter comes after OpenCV', async () => {
    const modelsDir = await tmpDir();
    // lama is not the preferred inpainter (migan is), so it shows the fallback to an installed alternative.
    await fs.mkdir(path.join(modelsDir, 'lama'));
    await fs.writeFile(path.join(modelsDir, 'lama', 'lama_fp32.onnx'), 'x');
    // A DATA_DIR of its own: nothing measured, so the unmeasured pulled lama is not chosen over OpenCV.
    const { code, stdout } = await cli(['list'], { MODELS_DIR: modelsDir, DATA_DIR: modelsDir });
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Task → model it will use:'));
    expect(section).toMatch(/^ {2}cutout +isnet$/m);
    expect(section).toMatch(/^ {2}ocr +ppocr-v4-det$/m);
    expect(section).toMatch(/^ {2}inpaint +chosen by measured quality, below$/m);
    expect(section).toMatch(/^ {2}inpaint +opencv-telea \(not measured; then lama pulled, not measured\)$/m);
    expect(section).toMatch(/^ {2}remove +opencv-telea \(not measured; then lama pulled, not measured\)$/m);
    expect(section).toMatch(/Nothing measured on this machine yet: run `npm run eval`/);
    // Weights no code here runs are never offered as the fix.
    expect(section).toMatch(/^ {2}answer +none — set LLM_URL \(no runner in this build yet for smolvlm-256m\)$/m);
    // caption runs on the npm-shipped detectors until Florence-2 or an endpoint is there, and says so.
    expect(section).toMatch(
      /^ {2}caption +centernet-coco \(stopgap: lists the objects, faces and text the detectors found instead of describing the picture\) — for the real thing: npm run models -- pull florence-2-base, or set LLM_URL$/m,
    );
    expect(section).toMatch(/^ {2}segment_at +none — npm run models -- pull slimsam-77$/m);
    // The exact command and the files, for the operator (the chat only hears "ask its admin").
    const how = stdout.slice(stdout.indexOf('How to get them:'));
    expect(how).toMatch(/^ {2}slimsam-77: Run `npm run models -- pull slimsam-77` .*onnx\/vision_encoder\.onnx.*$/m);
    expect(how).toMatch(/^ {2}florence-2-base: Run `npm run models -- pull florence-2-base` /m);
    // ESRGAN-slim ships in npm and serves upscale until Swin2SR (preferred) is pulled.
    expect(section).toMatch(/^ {2}upscale ×2 +esrgan-slim-x2 \(not measured\)$/m);
    expect(section).toMatch(/^ {2}detect +centernet-coco$/m);
    expect(stdout).toMatch(/^✔ lama /m);
  });

  it('list names the endpoint as what caption and answer use when LLM_URL is set', async () => {
    const modelsDir = await tmpDir();
    const { code, stdout } = await cli(['list'], { MODELS_DIR: modelsDir, LLM_URL: 'http://localhost:11434/v1', LLM_MODEL: 'qwen2.5vl:3b' });
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Task → model it will use:'));
    expect(section).toMatch(/^ {2}caption +the endpoint set by LLM_URL$/m);
    expect(section).toMatch(/^ {2}answer +the endpoint set by LLM_URL$/m);
    expect(section).toMatch(/^ {2}ocr +ppocr-v4-det$/m);
  });

  it('list names ComfyUI or the Images API for generation when set, and both beside the pull command when not', async () => {
    const modelsDir = await tmpDir();
    const bare = await cli(['list'], { MODELS_DIR: modelsDir });
    expect(bare.stdout).toMatch(/^ {2}generate_image +none — npm run models -- pull sd-turbo, or set COMFYUI_URL or IMAGES_API_URL$/m);
    const comfy = await cli(['list'], { MODELS_DIR: modelsDir, COMFYUI_URL: 'http://127.0.0.1:8188' });
    expect(comfy.stdout).toMatch(/^ {2}generate_image +the endpoint set by COMFYUI_URL$/m);
  });

  it('pull fetches a catalog model from MODELS_HUB_URL, and refuses when downloads are off', async () => {
    const hub = await startHub();
    const weights = bytes(5000, 7);
    hub.files.set('/andraniksargsyan/migan/resolve/main/migan_pipeline_v2.onnx', weights);
    const modelsDir = await tmpDir();
    const off = await cli(['pull', 'migan'], { MODELS_DIR: modelsDir, MODELS_HUB_URL: hub.url, MODELS_ALLOW_DOWNLOAD: 'false' });
    expect(off.code).toBe(1);
    expect(off.stderr.trim().split('\n')).toHaveLength(1);
    expect(off.stderr).toContain('MODELS_ALLOW_DOWNLOAD=false');
    expect(hub.seen).toEqual([]);

    const on = await cli(['pull', 'migan'], { MODELS_DIR: modelsDir, MODELS_HUB_URL: hub.url, MODELS_ALLOW_DOWNLOAD: 'true' });
    expect(on.code).toBe(0);
    expect(on.stdout).toContain('✔ migan: 1 files');
    expect(on.stderr).toContain('migan_pipeline_v2.onnx: 100%');
    expect(await fs.readFile(path.join(modelsDir, 'migan', 'migan_pipeline_v2.onnx'))).toEqual(weights);
  });
});
