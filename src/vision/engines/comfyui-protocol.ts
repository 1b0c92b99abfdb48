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

/** A saved clip: VHS_VideoCombine adds its container (`format`, e.g. "video/h264-mp4") and `frame_rate`. */
export interface OutputVideo extends OutputImage {
  format?: string;
  frame_rate?: number;
}

/**
 * One node's UI output. Pictures come as `images`; ComfyUI's own video savers (SaveVideo, SaveWEBM,
 * SaveAnimatedWEBP, SaveAnimatedPNG) put their clip under `images` too, with `animated: [true]` beside it;
 * Video Helper Suite's VHS_VideoCombine writes `gifs` (whatever the format); `videos` is read as well.
 */
export interface NodeOutput {
  images?: OutputImage[];
  animated?: boolean[];
  gifs?: OutputVideo[];
  videos?: OutputVideo[];
}

/** One entry of GET /history/{id}: present only once the prompt ran (or failed). */
export interface HistoryEntry {
  outputs?: Record<string, NodeOutput>;
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

/** The saved clips of a finished prompt, output-type first; temp previews only when nothing was saved. */
export function outputVideos(entry: HistoryEntry): OutputVideo[] {
  const all = Object.entries(entry.outputs ?? {})
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .flatMap(([, o]) => [...(o.gifs ?? []), ...(o.videos ?? []), ...(o.animated?.some(Boolean) ? (o.images ?? []) : [])]);
  const saved = all.filter((v) => v.type === 'output');
  return saved.length > 0 ? saved : all;
}

const CLIP_TYPES: Record<string, 'video/mp4' | 'video/webm' | 'image/webp' | 'image/gif' | 'image/png'> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  webm: 'video/webm',
  webp: 'image/webp',
  gif: 'image/gif',
  png: 'image/png',
};

/** The clip's type from its file name (SaveVideo's "auto" is MP4); undefined for containers the bot does not take (mov, mkv). */
export function clipType(file: OutputVideo): (typeof CLIP_TYPES)[string] | undefined {
  const extension = /\.([a-z0-9]+)$/i.exec(file.filename)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : CLIP_TYPES[extension];
}
