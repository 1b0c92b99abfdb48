/**
 * The node classes the fake ComfyUI knows, with the input names and types of ComfyUI's nodes.py and
 * comfy_extras (checked against the upstream source), and a validation that answers like execution.py's
 * validate_prompt: unknown class → `invalid_prompt` with no node_errors; bad inputs → node_errors per node.
 */

type InputType =
  | 'INT'
  | 'FLOAT'
  | 'STRING'
  | 'BOOLEAN'
  | 'COMBO'
  | 'MODEL_FILE'
  | 'INPUT_FILE'
  | 'MODEL'
  | 'CLIP'
  | 'VAE'
  | 'CONDITIONING'
  | 'LATENT'
  | 'IMAGE'
  | 'MASK'
  | 'VIDEO'
  | 'AUDIO'
  | 'CLIP_VISION';

interface NodeSpec {
  required: Record<string, InputType>;
  optional?: Record<string, InputType>;
  outputs: InputType[];
  outputNode?: boolean;
  /** Allowed values of COMBO inputs. */
  combos?: Record<string, readonly string[]>;
}

const SAMPLERS = ['euler', 'euler_ancestral', 'dpmpp_2m', 'dpmpp_sde', 'lcm', 'ddim', 'uni_pc'];
const SCHEDULERS = ['normal', 'karras', 'exponential', 'sgm_uniform', 'simple', 'ddim_uniform', 'beta'];

export const NODE_SPECS: Record<string, NodeSpec> = {
  CheckpointLoaderSimple: { required: { ckpt_name: 'MODEL_FILE' }, outputs: ['MODEL', 'CLIP', 'VAE'] },
  UNETLoader: {
    required: { unet_name: 'MODEL_FILE', weight_dtype: 'COMBO' },
    outputs: ['MODEL'],
    combos: { weight_dtype: ['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2'] },
  },
  DualCLIPLoader: {
    required: { clip_name1: 'MODEL_FILE', clip_name2: 'MODEL_FILE', type: 'COMBO' },
    outputs: ['CLIP'],
    combos: { type: ['sdxl', 'sd3', 'flux', 'hunyuan_video'] },
  },
  VAELoader: { required: { vae_name: 'MODEL_FILE' }, outputs: ['VAE'] },
  CLIPTextEncode: { required: { text: 'STRING', clip: 'CLIP' }, outputs: ['CONDITIONING'] },
  ConditioningZeroOut: { required: { conditioning: 'CONDITIONING' }, outputs: ['CONDITIONING'] },
  FluxGuidance: { required: { conditioning: 'CONDITIONING', guidance: 'FLOAT' }, outputs: ['CONDITIONING'] },
  ReferenceLatent: { required: { conditioning: 'CONDITIONING' }, optional: { latent: 'LATENT' }, outputs: ['CONDITIONING'] },
  FluxKontextImageScale: { required: { image: 'IMAGE' }, outputs: ['IMAGE'] },
  KSampler: {
    required: {
      model: 'MODEL',
      seed: 'INT',
      steps: 'INT',
      cfg: 'FLOAT',
      sampler_name: 'COMBO',
      scheduler: 'COMBO',
      positive: 'CONDITIONING',
      negative: 'CONDITIONING',
      latent_image: 'LATENT',
      denoise: 'FLOAT',
    },
    outputs: ['LATENT'],
    combos: { sampler_name: SAMPLERS, scheduler: SCHEDULERS },
  },
  EmptyLatentImage: { required: { width: 'INT', height: 'INT', batch_size: 'INT' }, outputs: ['LATENT'] },
  EmptySD3LatentImage: { required: { width: 'INT', height: 'INT', batch_size: 'INT' }, outputs: ['LATENT'] },
  RepeatLatentBatch: { required: { samples: 'LATENT', amount: 'INT' }, outputs: ['LATENT'] },
  VAEDecode: { required: { samples: 'LATENT', vae: 'VAE' }, outputs: ['IMAGE'] },
  VAEEncode: { required: { pixels: 'IMAGE', vae: 'VAE' }, outputs: ['LATENT'] },
  VAEEncodeForInpaint: { required: { pixels: 'IMAGE', vae: 'VAE', mask: 'MASK', grow_mask_by: 'INT' }, outputs: ['LATENT'] },
  InpaintModelConditioning: {
    required: { positive: 'CONDITIONING', negative: 'CONDITIONING', vae: 'VAE', pixels: 'IMAGE', mask: 'MASK' },
    optional: { noise_mask: 'BOOLEAN' },
    outputs: ['CONDITIONING', 'CONDITIONING', 'LATENT'],
  },
  LoadImage: { required: { image: 'INPUT_FILE' }, outputs: ['IMAGE', 'MASK'] },
  LoadImageMask: { required: { image: 'INPUT_FILE', channel: 'COMBO' }, outputs: ['MASK'], combos: { channel: ['alpha', 'red', 'green', 'blue'] } },
  ImagePadForOutpaint: { required: { image: 'IMAGE', left: 'INT', top: 'INT', right: 'INT', bottom: 'INT', feathering: 'INT' }, outputs: ['IMAGE', 'MASK'] },
  SaveImage: { required: { images: 'IMAGE', filename_prefix: 'STRING' }, outputs: [], outputNode: true },
  // Video: nodes.py's CLIPLoader, nodes_model_advanced's ModelSamplingSD3, nodes_wan's Wan22ImageToVideoLatent,
  // nodes_video's LoadVideo / GetVideoComponents / CreateVideo / SaveVideo, nodes_images' SaveAnimatedWEBP,
  // nodes_video_model's SVD nodes, and Video Helper Suite's VHS_VideoCombine.
  CLIPLoader: {
    required: { clip_name: 'MODEL_FILE', type: 'COMBO' },
    optional: { device: 'COMBO' },
    outputs: ['CLIP'],
    combos: {
      type: ['stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2', 'wan'],
      device: ['default', 'cpu'],
    },
  },
  ModelSamplingSD3: { required: { model: 'MODEL', shift: 'FLOAT' }, outputs: ['MODEL'] },
  Wan22ImageToVideoLatent: {
    required: { vae: 'VAE', width: 'INT', height: 'INT', length: 'INT', batch_size: 'INT' },
    optional: { start_image: 'IMAGE' },
    outputs: ['LATENT'],
  },
  LoadVideo: { required: { file: 'INPUT_FILE' }, outputs: ['VIDEO'] },
  GetVideoComponents: { required: { video: 'VIDEO' }, outputs: ['IMAGE', 'AUDIO', 'FLOAT'] },
  CreateVideo: { required: { images: 'IMAGE', fps: 'FLOAT' }, optional: { audio: 'AUDIO' }, outputs: ['VIDEO'] },
  SaveVideo: {
    required: { video: 'VIDEO', filename_prefix: 'STRING', format: 'COMBO', codec: 'COMBO' },
    outputs: [],
    outputNode: true,
    combos: { format: ['auto', 'mp4'], codec: ['auto', 'h264'] },
  },
  SaveAnimatedWEBP: {
    required: { images: 'IMAGE', filename_prefix: 'STRING', fps: 'FLOAT', lossless: 'BOOLEAN', quality: 'INT', method: 'COMBO' },
    outputs: [],
    outputNode: true,
    combos: { method: ['default', 'fastest', 'slowest'] },
  },
  ImageOnlyCheckpointLoader: { required: { ckpt_name: 'MODEL_FILE' }, outputs: ['MODEL', 'CLIP_VISION', 'VAE'] },
  SVD_img2vid_Conditioning: {
    required: {
      clip_vision: 'CLIP_VISION',
      init_image: 'IMAGE',
      vae: 'VAE',
      width: 'INT',
      height: 'INT',
      video_frames: 'INT',
      motion_bucket_id: 'INT',
      fps: 'INT',
      augmentation_level: 'FLOAT',
    },
    outputs: ['CONDITIONING', 'CONDITIONING', 'LATENT'],
  },
  VideoLinearCFGGuidance: { required: { model: 'MODEL', min_cfg: 'FLOAT' }, outputs: ['MODEL'] },
  VHS_VideoCombine: {
    required: {
      images: 'IMAGE',
      frame_rate: 'FLOAT',
      loop_count: 'INT',
      filename_prefix: 'STRING',
      format: 'COMBO',
      pingpong: 'BOOLEAN',
      save_output: 'BOOLEAN',
    },
    outputs: [],
    outputNode: true,
    combos: { format: ['image/gif', 'image/webp', 'video/h264-mp4', 'video/webm'] },
  },
  PreviewImage: { required: { images: 'IMAGE' }, outputs: [], outputNode: true },
};

export interface PromptNode {
  class_type?: unknown;
  inputs?: Record<string, unknown>;
}
export type Prompt = Record<string, PromptNode>;

export interface ValidationError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export type Validation =
  | { ok: true; outputs: string[] }
  | { ok: false; error: ValidationError; node_errors: Record<string, { errors: ValidationError[]; dependent_outputs: string[]; class_type: string }> };

function inputErrors(
  prompt: Prompt,
  spec: NodeSpec,
  inputs: Record<string, unknown>,
  files: { models: ReadonlySet<string>; inputs: ReadonlySet<string> },
): ValidationError[] {
  const errors: ValidationError[] = [];
  const all = { ...spec.required, ...spec.optional };
  for (const [name, type] of Object.entries(all)) {
    const value = inputs[name];
    if (value === undefined) {
      if (name in spec.required)
        errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
      continue;
    }
    if (Array.isArray(value)) {
      const [from, index] = value as [string, number];
      const source = prompt[from];
      const sourceSpec = source ? NODE_SPECS[String(source.class_type)] : undefined;
      const received = sourceSpec?.outputs[index];
      if (received !== type) {
        errors.push({
          type: 'return_type_mismatch',
          message: 'Return type mismatch between linked nodes',
          details: `${name}, ${received ?? 'nothing'} != ${type}`,
          extra_info: { input_name: name },
        });
      }
      continue;
    }
    const bad = (message: string) =>
      errors.push({ type: 'value_not_in_list', message, details: `${name}: '${String(value)}'`, extra_info: { input_name: name, received_value: value } });
    if ((type === 'INT' && !Number.isInteger(value)) || (type === 'FLOAT' && typeof value !== 'number')) {
      errors.push({
        type: 'invalid_input_type',
        message: `Failed to convert an input value to a ${type} value`,
        details: `${name}, ${String(value)}`,
        extra_info: { input_name: name },
      });
    } else if (type === 'STRING' && typeof value !== 'string') bad('Value is not a string');
    else if (type === 'BOOLEAN' && typeof value !== 'boolean') bad('Value is not a boolean');
    else if (type === 'COMBO' && !spec.combos?.[name]?.includes(String(value))) bad('Value not in list');
    else if (type === 'MODEL_FILE' && !files.models.has(String(value))) bad('Value not in list');
    else if (type === 'INPUT_FILE' && !files.inputs.has(String(value))) bad('Invalid image file');
    else if (!['INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO', 'MODEL_FILE', 'INPUT_FILE'].includes(type)) bad(`Expected a link to a ${type} output`);
  }
  return errors;
}

export function validatePrompt(prompt: Prompt, files: { models: ReadonlySet<string>; inputs: ReadonlySet<string> }): Validation {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    if (node?.class_type === undefined) {
      return {
        ok: false,
        error: {
          type: 'invalid_prompt',
          message: 'Cannot execute because a node is missing the class_type property.',
          details: `Node ID '#${id}'`,
          extra_info: {},
        },
        node_errors: {},
      };
    }
    const spec = NODE_SPECS[String(node.class_type)];
    if (spec === undefined) {
      return {
        ok: false,
        error: {
          type: 'invalid_prompt',
          message: `Cannot execute because node ${String(node.class_type)} does not exist.`,
          details: `Node ID '#${id}'`,
          extra_info: {},
        },
        node_errors: {},
      };
    }
    if (spec.outputNode) outputs.push(id);
  }
  if (outputs.length === 0)
    return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: {} };
  const nodeErrors: Extract<Validation, { ok: false }>['node_errors'] = {};
  for (const [id, node] of Object.entries(prompt)) {
    const errors = inputErrors(prompt, NODE_SPECS[String(node.class_type)]!, node.inputs ?? {}, files);
    if (errors.length > 0) nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: String(node.class_type) };
  }
  if (Object.keys(nodeErrors).length === 0) return { ok: true, outputs };
  const details = Object.values(nodeErrors)
    .flatMap((n) => n.errors.map((e) => `${e.message}: ${e.details}`))
    .join('\n');
  return {
    ok: false,
    error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} },
    node_errors: nodeErrors,
  };
}

/** The nodes an output depends on, dependencies first: the order the fake "executes" them in. */
export function executionOrder(prompt: Prompt, outputs: readonly string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const value of Object.values(prompt[id]?.inputs ?? {})) if (Array.isArray(value)) visit(String(value[0]));
    order.push(id);
  };
  for (const id of outputs) visit(id);
  return order;
}
