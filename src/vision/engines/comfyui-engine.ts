import { createHash } from 'node:crypto';
import sharp from 'sharp';
import type { Settings } from '../../config/settings.ts';
import { EngineRejectedError, EngineUnavailableError, JobCancelledError } from '../../errors.ts';
import type {
  GeneratedImage,
  GenerationCallbacks,
  GenerationOperation,
  GenerationRequest,
  GenerationResult,
  VideoEngine,
  VideoOperation,
  VideoRequest,
  VideoResult,
} from './engine.ts';
import { ComfyUiHttp } from './comfyui-http.ts';
import { clipType, outputImages, outputVideos } from './comfyui-protocol.ts';
import { runPrompt } from './comfyui-run.ts';
import { ComfyUiSocket } from './comfyui-socket.ts';
import { type EngineOperation, type PlaceholderValues, WorkflowLibrary, type WorkflowTemplate, fillWorkflow, numericDefault } from './comfyui-workflows.ts';

/**
 * The ComfyUI engine: picks the workflow file for the task, uploads the input picture and mask, queues one
 * prompt per image (seed, seed + 1, …, so each image of a grid can be reproduced on its own), relays progress
 * and previews, and returns the saved PNGs.
 */

export type ComfyUiSettings = Pick<Settings, 'COMFYUI_URL' | 'COMFYUI_WORKFLOWS_DIR' | 'COMFYUI_TIMEOUT_MS'>;

interface Client {
  http: ComfyUiHttp;
  socket: ComfyUiSocket;
}

/** One client (one WebSocket, one client_id) per ComfyUI URL for the whole process. */
const clients = new Map<string, Client>();

function clientFor(url: string): Client {
  let client = clients.get(url);
  if (client === undefined) {
    client = { http: new ComfyUiHttp(url), socket: new ComfyUiSocket(url) };
    clients.set(url, client);
  }
  return client;
}

/** Closes every ComfyUI socket of this process (shutdown, tests). Jobs still running see their socket drop. */
export function closeComfyUiClients(): void {
  for (const client of clients.values()) client.socket.close();
  clients.clear();
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47]);

async function asPng(image: Buffer): Promise<Buffer> {
  return image.subarray(0, 4).equals(PNG_MAGIC) ? image : sharp(image).png().toBuffer();
}

/** White (≥ 128) = repaint, as the interface says; LoadImageMask then reads the red channel as 0 or 1. */
async function maskPng(mask: Buffer): Promise<Buffer> {
  return sharp(mask).removeAlpha().greyscale().threshold(128).png().toBuffer();
}

/** Content-addressed names: the same picture uploads once, and concurrent jobs never overwrite each other's. */
function uploadName(png: Buffer, kind: string): string {
  return `vitron-${kind}-${createHash('sha256').update(png).digest('hex').slice(0, 24)}.png`;
}

async function uploads(
  client: Client,
  template: WorkflowTemplate,
  request: Pick<GenerationRequest, 'image' | 'mask'>,
  signal: AbortSignal,
): Promise<PlaceholderValues> {
  const values: PlaceholderValues = {};
  for (const kind of ['image', 'mask'] as const) {
    if (!template.uses.has(kind)) continue;
    const given = request[kind];
    if (given === undefined) continue;
    const png = kind === 'image' ? await asPng(given) : await maskPng(given);
    values[kind] = await client.http.upload(png, uploadName(png, kind), signal);
  }
  return values;
}

/** The input clip under a content-addressed name; LoadVideo finds it by its extension. */
async function uploadClip(client: Client, template: WorkflowTemplate, request: VideoRequest, signal: AbortSignal): Promise<PlaceholderValues> {
  if (!template.uses.has('video') || request.video === undefined) return {};
  const name = `vitron-video-${createHash('sha256').update(request.video).digest('hex').slice(0, 24)}.mp4`;
  return { video: await client.http.upload(request.video, name, signal, 'video/mp4') };
}

export function createComfyUiEngine(settings: ComfyUiSettings): VideoEngine {
  const library = new WorkflowLibrary(settings.COMFYUI_WORKFLOWS_DIR);

  function supported(operation: EngineOperation, task: string): boolean {
    if (settings.COMFYUI_URL === undefined) return false;
    try {
      return library.find(operation, task) !== undefined;
    } catch {
      // A broken file of the operator's: claim the task, so that generate() names the file to fix.
      return true;
    }
  }

  function clientOf(callbacks: GenerationCallbacks): Client {
    const url = settings.COMFYUI_URL;
    if (url === undefined) throw new EngineUnavailableError('comfyui', 'COMFYUI_URL is not set.');
    if (callbacks.signal.aborted) throw new JobCancelledError();
    return clientFor(url);
  }

  function templateFor(operation: EngineOperation, task: string): WorkflowTemplate {
    const template = library.find(operation, task);
    if (template === undefined) {
      throw new EngineRejectedError('comfyui', `No ComfyUI workflow serves ${task} (${operation}): add ${task}.json to COMFYUI_WORKFLOWS_DIR.`, {
        task,
        operation,
      });
    }
    return template;
  }

  return {
    name: 'comfyui',

    supports: (operation: GenerationOperation, task: string) => supported(operation, task),
    supportsVideo: (operation: VideoOperation, task: string) => supported(operation, task),

    async generate(request, callbacks): Promise<GenerationResult> {
      const template = templateFor(request.operation, request.task);
      const client = clientOf(callbacks);
      const deadline = Date.now() + settings.COMFYUI_TIMEOUT_MS;
      const count = Math.max(1, Math.min(4, Math.floor(request.count)));
      const steps = request.steps ?? numericDefault(template, 'steps');
      const inputs = await uploads(client, template, request, callbacks.signal);
      const images: GeneratedImage[] = [];
      for (let i = 0; i < count; i++) {
        const seed = request.seed + i;
        const prompt = fillWorkflow(template, {
          ...inputs,
          prompt: request.prompt,
          negative: request.negativePrompt,
          seed,
          steps: request.steps,
          width: request.width,
          height: request.height,
          strength: request.strength,
        });
        const entry = await runPrompt({
          http: client.http,
          socket: client.socket,
          prompt,
          file: template.file,
          signal: callbacks.signal,
          deadline,
          timeoutMs: settings.COMFYUI_TIMEOUT_MS,
          progress: (value, max) =>
            callbacks.progress(i * max + value, count * max, count > 1 ? `image ${i + 1}/${count}, step ${value}/${max}` : `step ${value}/${max}`),
          queued: (position) => {
            if (position > 0) callbacks.progress(i * (steps ?? 1), count * (steps ?? 1), `queued at ComfyUI, position ${position}`);
          },
          preview: (image) => callbacks.preview?.(image),
        });
        const [first] = outputImages(entry);
        if (first === undefined)
          throw new EngineRejectedError('comfyui', `The ComfyUI workflow ${template.file} saved no image: it needs a SaveImage node.`, { file: template.file });
        images.push({ png: await asPng(await client.http.view(first, callbacks.signal)), seed });
      }
      const meta = await sharp(images[0]!.png).metadata();
      return {
        images,
        engine: 'comfyui',
        model: `comfyui:${template.name}`,
        ...(steps === undefined ? {} : { steps }),
        width: meta.width ?? request.width,
        height: meta.height ?? request.height,
      };
    },

    /** One prompt for the clip: the input picture or clip uploaded, progress per sampler step, the saved file fetched. */
    async generateVideo(request, callbacks): Promise<VideoResult> {
      const template = templateFor(request.operation, request.task);
      const client = clientOf(callbacks);
      const deadline = Date.now() + settings.COMFYUI_TIMEOUT_MS;
      const steps = request.steps ?? numericDefault(template, 'steps');
      const inputs = {
        ...(await uploads(client, template, { image: request.image }, callbacks.signal)),
        ...(await uploadClip(client, template, request, callbacks.signal)),
      };
      const prompt = fillWorkflow(template, {
        ...inputs,
        prompt: request.prompt,
        negative: request.negativePrompt,
        seed: request.seed,
        steps: request.steps,
        width: request.width,
        height: request.height,
        strength: request.strength,
        frames: request.frames,
        fps: request.fps,
      });
      const entry = await runPrompt({
        http: client.http,
        socket: client.socket,
        prompt,
        file: template.file,
        signal: callbacks.signal,
        deadline,
        timeoutMs: settings.COMFYUI_TIMEOUT_MS,
        progress: (value, max) => callbacks.progress(value, max, `step ${value}/${max}`),
        queued: (position) => {
          if (position > 0) callbacks.progress(0, steps ?? 1, `queued at ComfyUI, position ${position}`);
        },
        preview: (image) => callbacks.preview?.(image),
      });
      const [first] = outputVideos(entry);
      if (first === undefined)
        throw new EngineRejectedError(
          'comfyui',
          `The ComfyUI workflow ${template.file} saved no video: it needs a SaveVideo, SaveAnimatedWEBP or VHS_VideoCombine node.`,
          {
            file: template.file,
          },
        );
      const mime = clipType(first);
      if (mime === undefined)
        throw new EngineRejectedError(
          'comfyui',
          `The ComfyUI workflow ${template.file} saved ${first.filename}; save MP4, WebM or animated WebP/GIF (SaveVideo format "mp4").`,
          {
            file: template.file,
          },
        );
      const bytes = await client.http.view(first, callbacks.signal);
      return {
        video: { bytes, mime, frames: request.frames, fps: first.frame_rate ?? request.fps, seed: request.seed },
        engine: 'comfyui',
        model: `comfyui:${template.name}`,
        ...(steps === undefined ? {} : { steps }),
        width: request.width,
        height: request.height,
      };
    },
  };
}
