import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { EngineRejectedError } from '../../errors.ts';
import type { GenerationOperation, VideoOperation } from './engine.ts';

/**
 * ComfyUI workflow templates: API-format JSON (`{node_id: {class_type, inputs, _meta}}`) in which the inputs
 * the bot fills are placeholder strings. `"{{name}}"` as a whole value becomes the typed value (a number for
 * seed/steps/width/height/strength, the uploaded file name for image/mask); `{{name}}` inside a longer string
 * is replaced as text ("{{prompt}}, watercolor"). `{{name|default}}` gives the value used when the request
 * has none (`"{{steps|4}}"`, `"{{negative|}}"`). `_meta` is ignored by ComfyUI and by the filling, so titles
 * may mention placeholders freely. The names are the request's own fields, so there is nothing to look up.
 */

export const PLACEHOLDERS = ['prompt', 'negative', 'seed', 'steps', 'width', 'height', 'strength', 'image', 'mask', 'frames', 'fps', 'video'] as const;
export type PlaceholderName = (typeof PLACEHOLDERS)[number];
export type PlaceholderValues = Partial<Record<PlaceholderName, string | number>>;

const NUMERIC: ReadonlySet<PlaceholderName> = new Set(['seed', 'steps', 'width', 'height', 'strength', 'frames', 'fps']);
const PLACEHOLDER = /\{\{\s*([a-z_]+)\s*(?:\|([^}]*))?\}\}/g;
const WHOLE = /^\{\{\s*([a-z_]+)\s*(?:\|([^}]*))?\}\}$/;

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}
export type ApiWorkflow = Record<string, ApiNode>;

/** Picture work or video work: what a workflow's output nodes save. */
export type EngineOperation = GenerationOperation | VideoOperation;

/**
 * Output nodes that save a clip (ComfyUI's nodes_video.py and nodes_images.py, and Video Helper Suite's
 * VHS_VideoCombine): a workflow with one of them makes videos, any other makes pictures.
 */
export const VIDEO_SAVE_NODES: ReadonlySet<string> = new Set(['SaveVideo', 'SaveWEBM', 'SaveAnimatedWEBP', 'SaveAnimatedPNG', 'VHS_VideoCombine']);

const VIDEO_OPERATION_SET: ReadonlySet<string> = new Set<VideoOperation>(['text-to-video', 'image-to-video', 'video-to-video']);

export function isVideoOperation(operation: EngineOperation): operation is VideoOperation {
  return VIDEO_OPERATION_SET.has(operation);
}

export interface WorkflowTemplate {
  /** The file it came from, for messages that tell the operator what to change. */
  file: string;
  /** What it saves: a clip (a video save node) or pictures. */
  output: 'image' | 'video';
  /** "generate_image.json": what GenerationResult.model reports after "comfyui:". */
  name: string;
  workflow: ApiWorkflow;
  /** Placeholders the template uses, and the default each carries (undefined: none). */
  uses: Map<PlaceholderName, string | undefined>;
}

/** The templates shipped with the bot. */
export const BUILT_IN_WORKFLOWS_DIR = fileURLToPath(new URL('../../../models/workflows/comfyui/', import.meta.url));

/** The file an operation falls back to when its task has no file of its own. */
export const OPERATION_FILES: Record<EngineOperation, string> = {
  'text-to-image': 'generate_image',
  'image-to-image': 'image_to_image',
  inpaint: 'inpaint',
  instruct: 'edit',
  'text-to-video': 'text_to_video',
  'image-to-video': 'image_to_video',
  'video-to-video': 'video_to_video',
};

/** What a request of this operation can fill: a template that needs more cannot serve it. */
const PICTURE_VALUES = ['prompt', 'negative', 'seed', 'steps', 'width', 'height', 'strength'] as const;
const CLIP_VALUES = [...PICTURE_VALUES, 'frames', 'fps'] as const;
const AVAILABLE: Record<EngineOperation, ReadonlySet<PlaceholderName>> = {
  'text-to-image': new Set(PICTURE_VALUES),
  'image-to-image': new Set([...PICTURE_VALUES, 'image']),
  inpaint: new Set([...PICTURE_VALUES, 'image', 'mask']),
  instruct: new Set([...PICTURE_VALUES, 'image']),
  'text-to-video': new Set(CLIP_VALUES),
  'image-to-video': new Set([...CLIP_VALUES, 'image']),
  'video-to-video': new Set([...CLIP_VALUES, 'video']),
};

function reject(file: string, problem: string): EngineRejectedError {
  return new EngineRejectedError('comfyui', `The ComfyUI workflow ${file} ${problem}`, { file });
}

function isPlaceholder(name: string): name is PlaceholderName {
  return (PLACEHOLDERS as readonly string[]).includes(name);
}

/** Checks the API format and collects the placeholders; throws EngineRejectedError naming the file. */
export function parseWorkflow(file: string, text: string): WorkflowTemplate {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw reject(file, `is not JSON: ${(error as Error).message}.`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw reject(file, 'is not an object of nodes.');
  const uses = new Map<PlaceholderName, string | undefined>();
  for (const [id, node] of Object.entries(raw as Record<string, unknown>)) {
    const n = node as Partial<ApiNode> | null;
    if (typeof n !== 'object' || n === null || typeof n.class_type !== 'string' || typeof n.inputs !== 'object' || n.inputs === null) {
      // The UI's own format ("nodes": [...], "links": [...]) lands here: say which export is needed.
      throw reject(file, `has no API-format node at "${id}": export it with "Save (API format)" in ComfyUI.`);
    }
    for (const value of Object.values(n.inputs)) {
      if (typeof value !== 'string') continue;
      for (const match of value.matchAll(PLACEHOLDER)) {
        const name = match[1]!;
        if (!isPlaceholder(name)) throw reject(file, `uses {{${name}}}; the placeholders are ${PLACEHOLDERS.map((p) => `{{${p}}}`).join(', ')}.`);
        if (!uses.has(name) || uses.get(name) === undefined) uses.set(name, match[2]);
      }
    }
  }
  const savesVideo = Object.values(raw as ApiWorkflow).some((node) => VIDEO_SAVE_NODES.has(node.class_type));
  // Image-only video models (Stable Video Diffusion) take no words: a clip workflow may go without them.
  if (!uses.has('prompt') && !savesVideo) throw reject(file, 'has no {{prompt}} input.');
  return { file, name: path.basename(file), output: savesVideo ? 'video' : 'image', workflow: raw as ApiWorkflow, uses };
}

/** Whether a request of this operation has every value the template needs (defaults count as had). */
export function servesOperation(template: WorkflowTemplate, operation: EngineOperation): boolean {
  if ((template.output === 'video') !== isVideoOperation(operation)) return false;
  for (const [name, fallback] of template.uses) if (!AVAILABLE[operation].has(name) && fallback === undefined) return false;
  return true;
}

function valueFor(template: WorkflowTemplate, name: PlaceholderName, fallback: string | undefined, values: PlaceholderValues): string | number {
  const given = values[name];
  if (given !== undefined) return given;
  if (fallback === undefined) throw reject(template.file, `needs {{${name}}}, which this request does not have.`);
  return NUMERIC.has(name) && fallback.trim() !== '' ? Number(fallback) : fallback;
}

/** A fresh API-format prompt with every placeholder replaced; the template is left untouched. */
export function fillWorkflow(template: WorkflowTemplate, values: PlaceholderValues): ApiWorkflow {
  const out: ApiWorkflow = {};
  for (const [id, node] of Object.entries(template.workflow)) {
    const inputs: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node.inputs)) {
      if (typeof value !== 'string') {
        inputs[key] = value;
        continue;
      }
      const whole = WHOLE.exec(value);
      inputs[key] = whole
        ? valueFor(template, whole[1] as PlaceholderName, whole[2], values)
        : value.replace(PLACEHOLDER, (_m, name: PlaceholderName, fallback?: string) => String(valueFor(template, name, fallback, values)));
    }
    out[id] = node._meta === undefined ? { class_type: node.class_type, inputs } : { class_type: node.class_type, inputs, _meta: node._meta };
  }
  return out;
}

/** The default a template gives a placeholder, as a number (steps the result reports when the request gave none). */
export function numericDefault(template: WorkflowTemplate, name: PlaceholderName): number | undefined {
  const fallback = template.uses.get(name);
  return fallback === undefined || fallback.trim() === '' ? undefined : Number(fallback);
}

interface Cached {
  mtimeMs: number;
  template: WorkflowTemplate;
}

/**
 * Finds the template for (operation, task): `<task>.json`, then the operation's file, each first in the
 * operator's folder and then in ours. Video work on a picture task ("style" on a clip) first tries
 * `<task>_video.json`, so a task can have a picture workflow and a clip workflow side by side. Files are re-read when they change, so an operator can edit a workflow
 * without restarting the bot.
 */
export class WorkflowLibrary {
  private readonly cache = new Map<string, Cached>();
  private readonly dirs: string[];

  constructor(operatorDir: string | undefined, builtInDir = BUILT_IN_WORKFLOWS_DIR) {
    this.dirs = operatorDir === undefined ? [builtInDir] : [path.resolve(operatorDir), builtInDir];
  }

  /** The template serving the request, or undefined when there is none. Throws when a file is broken. */
  find(operation: EngineOperation, task: string): WorkflowTemplate | undefined {
    const own = isVideoOperation(operation) && !task.endsWith('video') ? [`${task}_video`, task] : [task];
    const names = [...new Set([...own, OPERATION_FILES[operation]])];
    for (const name of names) {
      if (!/^[a-z0-9_-]+$/i.test(name)) continue;
      for (const dir of this.dirs) {
        const template = this.load(path.join(dir, `${name}.json`));
        if (template !== undefined && servesOperation(template, operation)) return template;
      }
    }
    return undefined;
  }

  private load(file: string): WorkflowTemplate | undefined {
    let mtimeMs: number;
    try {
      mtimeMs = statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    const cached = this.cache.get(file);
    if (cached?.mtimeMs === mtimeMs) return cached.template;
    const template = parseWorkflow(file, readFileSync(file, 'utf8'));
    this.cache.set(file, { mtimeMs, template });
    return template;
  }
}
