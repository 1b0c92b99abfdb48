import { EngineRejectedError, EngineUnavailableError, JobCancelledError } from '../../errors.ts';
import { type HistoryEntry, type QueueState, describePromptRejection } from './comfyui-protocol.ts';
import type { ApiWorkflow } from './comfyui-workflows.ts';

/**
 * ComfyUI's HTTP routes as typed calls. Every failure becomes one of the typed errors: the network or a 5xx
 * is EngineUnavailableError (the queue retries), a refusal of what we sent is EngineRejectedError.
 */

/** Per request: ComfyUI answers these routes at once; a longer wait means it is wedged or the network is. */
const REQUEST_TIMEOUT_MS = 30_000;

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

export class ComfyUiHttp {
  constructor(readonly baseUrl: string) {}

  private async request(route: string, init: RequestInit, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${route}`, { ...init, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (error) {
      if (signal?.aborted) throw new JobCancelledError();
      throw new EngineUnavailableError(
        'comfyui',
        `ComfyUI at ${this.baseUrl} did not answer ${route} (${networkCause(error)}); check COMFYUI_URL and that ComfyUI runs.`,
        {
          cause: error,
        },
      );
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new EngineUnavailableError('comfyui', `ComfyUI at ${this.baseUrl} answered ${route} with HTTP ${response.status}.`, { status: response.status });
    }
    return response;
  }

  private async json<T>(route: string, init: RequestInit = {}, signal?: AbortSignal): Promise<T> {
    const response = await this.request(route, init, signal);
    if (!response.ok) {
      const text = await response.text();
      throw new EngineRejectedError('comfyui', `ComfyUI refused ${route} with HTTP ${response.status}: ${text.slice(0, 300)}`, { status: response.status });
    }
    return (await response.json()) as T;
  }

  private async post(route: string, body: unknown, signal?: AbortSignal): Promise<void> {
    const response = await this.request(route, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, signal);
    await response.body?.cancel();
  }

  /**
   * POST /upload/image (also for masks, and for clips: LoadImageMask and LoadVideo read from the same input
   * folder, and ComfyUI's own UI uploads videos through this route).
   */
  async upload(bytes: Buffer, filename: string, signal?: AbortSignal, type = 'image/png'): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(bytes)], { type }), filename);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const answer = await this.json<{ name: string; subfolder?: string }>('/upload/image', { method: 'POST', body: form }, signal);
    return answer.subfolder ? `${answer.subfolder}/${answer.name}` : answer.name;
  }

  /** POST /prompt: the prompt id, or EngineRejectedError naming the nodes and the workflow file. */
  async queuePrompt(prompt: ApiWorkflow, clientId: string, file: string, signal?: AbortSignal): Promise<string> {
    const response = await this.request(
      '/prompt',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: clientId }) },
      signal,
    );
    const text = await response.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text.slice(0, 300) };
    }
    if (!response.ok) {
      const { message, nodes } = describePromptRejection(body, file);
      throw new EngineRejectedError('comfyui', message, { file, nodes, status: response.status });
    }
    const id = (body as { prompt_id?: unknown }).prompt_id;
    if (typeof id !== 'string') throw new EngineUnavailableError('comfyui', `ComfyUI at ${this.baseUrl} answered /prompt without a prompt_id.`);
    return id;
  }

  /** GET /history/{id}: the entry once the prompt ran, undefined while it waits or runs (or was forgotten). */
  async history(promptId: string, signal?: AbortSignal): Promise<HistoryEntry | undefined> {
    const all = await this.json<Record<string, HistoryEntry>>(`/history/${encodeURIComponent(promptId)}`, {}, signal);
    return all[promptId];
  }

  async queue(signal?: AbortSignal): Promise<QueueState> {
    const q = await this.json<Partial<QueueState>>('/queue', {}, signal);
    return { queue_running: q.queue_running ?? [], queue_pending: q.queue_pending ?? [] };
  }

  /** POST /queue {delete}: removes pending prompts only; ComfyUI ignores ids that are not pending. */
  async deletePending(promptIds: string[]): Promise<void> {
    await this.post('/queue', { delete: promptIds });
  }

  /**
   * POST /interrupt {prompt_id}: newer ComfyUI interrupts only when that prompt runs; older ones ignore the
   * body and stop whatever runs, which is why callers check /queue first.
   */
  async interrupt(promptId: string): Promise<void> {
    await this.post('/interrupt', { prompt_id: promptId });
  }

  async view(image: { filename: string; subfolder: string; type: string }, signal?: AbortSignal): Promise<Buffer> {
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
    const response = await this.request(`/view?${query}`, {}, signal);
    if (!response.ok) {
      await response.body?.cancel();
      throw new EngineUnavailableError('comfyui', `ComfyUI at ${this.baseUrl} no longer has the output ${image.filename} (HTTP ${response.status}).`, {
        status: response.status,
      });
    }
    return Buffer.from(await response.arrayBuffer());
  }
}
