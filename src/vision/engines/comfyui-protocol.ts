/**
 * ComfyUI's wire shapes (server.py, execution.py, protocol.py) and how to read them. Only what the engine
 * uses is typed; everything else passes through untouched.
 */

/** A JSON frame on /ws: `{type, data}`. */
export interface WsMessage {
  type: string;
  data: Record<string, unknown>;
}

/** BinaryEventTypes in ComfyUI's protocol.py: the first 4 bytes of a binary frame, big-endian. */
export const PREVIEW_IMAGE = 1;
/** Sent only to clients that announce `supports_preview_metadata`; parsed anyway, should a server send it. */
export const PREVIEW_IMAGE_WITH_METADATA = 4;

export interface PreviewFrame {
  image: Buffer;
  /** Present only in metadata frames. */
  promptId?: string;
}

/**
 * A binary preview: [event u32][image type u32: 1 JPEG, 2 PNG][image] for PREVIEW_IMAGE, or
 * [event u32][metadata length u32][metadata JSON][image] for PREVIEW_IMAGE_WITH_METADATA. Other binary
 * events (progress text) return undefined.
 */
export function parseBinaryFrame(frame: Buffer): PreviewFrame | undefined {
  if (frame.length < 8) return undefined;
  const event = frame.readUInt32BE(0);
  if (event === PREVIEW_IMAGE) return { image: frame.subarray(8) };
  if (event === PREVIEW_IMAGE_WITH_METADATA) {
    const length = frame.readUInt32BE(4);
    if (frame.length < 8 + length) return undefined;
    let promptId: string | undefined;
    try {
      const meta = JSON.parse(frame.subarray(8, 8 + length).toString('utf8')) as { prompt_id?: unknown };
      if (typeof meta.prompt_id === 'string') promptId = meta.prompt_id;
    } catch {
      // A preview is a nicety: a frame with unreadable metadata still shows its image.
    }
    return { image: frame.subarray(8 + length), promptId };
  }
  return undefined;
}

export interface OutputImage {
  filename: string;
  subfolder: string;
  type: string;
}

/** One entry of GET /history/{id}: present only once the prompt ran (or failed). */
export interface HistoryEntry {
  outputs?: Record<string, { images?: OutputImage[] }>;
  status?: { status_str?: string; completed?: boolean; messages?: [string, Record<string, unknown>][] };
}

/** A queue item: [number, prompt_id, prompt, extra_data, outputs_to_execute, …]. */
export type QueueItem = [number, string, ...unknown[]];

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

interface ValidationError {
  message?: string;
  details?: string;
}

/** The sentence for a 400 from POST /prompt: the nodes and what is wrong with each, and the file to fix. */
export function describePromptRejection(body: unknown, file: string): { message: string; nodes: string[] } {
  const b = (body ?? {}) as { error?: ValidationError | string; node_errors?: Record<string, { class_type?: string; errors?: ValidationError[] }> };
  const nodeErrors = Object.entries(b.node_errors ?? {});
  const nodes = nodeErrors.map(([id, e]) => `${e.class_type ?? 'node'} #${id}`);
  const parts = nodeErrors.map(([id, e]) => {
    const why = (e.errors ?? []).map((x) => [x.message, x.details].filter(Boolean).join(': ')).join('; ');
    return `node #${id} (${e.class_type ?? 'unknown'}): ${why || 'invalid'}`;
  });
  if (parts.length === 0) {
    const error = typeof b.error === 'string' ? { message: b.error } : (b.error ?? {});
    parts.push([error.message, error.details].filter(Boolean).join(' ') || 'the prompt was refused');
  }
  return { message: `ComfyUI refused the workflow ${file}: ${parts.join('; ')}`, nodes };
}

/** The sentence for an execution_error (from the socket, or from the history's status messages). */
export function describeExecutionError(data: Record<string, unknown>, file: string): string {
  const node = `${String(data.node_type ?? 'node')} #${String(data.node_id ?? '?')}`;
  const what = String(data.exception_message ?? 'failed').trim();
  return `ComfyUI failed running ${file} at ${node}: ${what}`;
}

/** The execution_error kept in a failed prompt's history status, if any. */
export function historyError(entry: HistoryEntry): Record<string, unknown> | undefined {
  return entry.status?.messages?.find(([event]) => event === 'execution_error')?.[1];
}

/** Whether a history entry is an interrupted run (status error with an execution_interrupted message). */
export function historyInterrupted(entry: HistoryEntry): boolean {
  return entry.status?.messages?.some(([event]) => event === 'execution_interrupted') ?? false;
}

/** The saved images of a finished prompt, output-type first (SaveImage); previews only when nothing was saved. */
export function outputImages(entry: HistoryEntry): OutputImage[] {
  const all = Object.entries(entry.outputs ?? {})
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .flatMap(([, o]) => o.images ?? []);
  const saved = all.filter((i) => i.type === 'output');
  return saved.length > 0 ? saved : all;
}
