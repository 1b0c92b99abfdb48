import { DownloadFailedError, DownloadRefusedError, MediaTooLargeError } from '../../src/errors.ts';
import { formatBytes } from '../../src/media/limits.ts';

export interface CappedDownloadOptions {
  /** Host names the file may come from: exact names, or suffixes starting with "." (".slack-edge.com"). */
  allowedHosts: readonly string[];
  /** Bytes read at most; more is refused before decoding ever starts. */
  maxBytes: number;
  /** Sent with the request and with followed redirects to allowed hosts only (a bot token). */
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxRedirects?: number;
  /** Plain http is accepted only for these hosts (the tests' local fakes). */
  insecureHosts?: readonly string[];
  fetch?: typeof fetch;
}

export function hostAllowed(hostname: string, allowed: readonly string[]): boolean {
  const host = hostname.toLowerCase();
  return allowed.some((entry) => {
    const rule = entry.toLowerCase();
    return rule.startsWith('.') ? host.endsWith(rule) && host.length > rule.length : host === rule;
  });
}

/**
 * Fetches a chat attachment: only from the platform's file hosts, over https, following redirects only
 * to allowed hosts (so a token never leaves them), and stopping at `maxBytes` whether or not the server
 * declared a length. Refusals are bad input (never retried); a failing host is transient.
 */
export async function downloadCapped(url: string, options: CappedDownloadOptions): Promise<Uint8Array> {
  const doFetch = options.fetch ?? fetch;
  let current = parseAllowed(url, options);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await doFetch(current, {
        headers: options.headers ?? {},
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
      });
    } catch (error) {
      throw new DownloadFailedError(`Could not download the file from ${current.hostname}.`, { cause: error });
    }
    if (response.status >= 300 && response.status < 400 && response.headers.get('location')) {
      await response.body?.cancel();
      if (hop >= (options.maxRedirects ?? 3)) throw new DownloadRefusedError('The file link redirects too many times.');
      current = parseAllowed(new URL(response.headers.get('location')!, current).href, options);
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel();
      if (response.status >= 500 || response.status === 429)
        throw new DownloadFailedError(`The file host answered ${response.status}.`, { status: response.status });
      throw new DownloadRefusedError(`The file could not be fetched (the host answered ${response.status}).`, { status: response.status });
    }
    return readCapped(response, options.maxBytes);
  }
}

function parseAllowed(raw: string, options: CappedDownloadOptions): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new DownloadRefusedError('The file link is not a valid URL.');
  }
  const insecureOk = url.protocol === 'http:' && hostAllowed(url.hostname, options.insecureHosts ?? []);
  if (url.protocol !== 'https:' && !insecureOk) throw new DownloadRefusedError(`Files are fetched over https only, not ${url.protocol}`);
  if (!hostAllowed(url.hostname, options.allowedHosts) && !insecureOk) {
    throw new DownloadRefusedError(`Files are fetched only from the platform's own file hosts, not ${url.hostname}.`, { host: url.hostname });
  }
  return url;
}

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new MediaTooLargeError('The file', formatBytes(maxBytes), formatBytes(declared));
  }
  if (!response.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new MediaTooLargeError('The file', formatBytes(maxBytes), `more than ${formatBytes(maxBytes)}`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
