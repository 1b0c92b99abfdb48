import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { SettingsError } from '../errors.ts';
import { isSessionTask, isTask, type Task } from '../core/tasks.ts';
import { CATALOG } from '../../models/catalog.ts';

/**
 * Every setting, read once from the environment at start-up. Each entry says in words what it expects,
 * so a wrong value stops the program with one line: the setting, what was expected, what arrived.
 */
interface SettingSpec<T> {
  schema: z.ZodType<T>;
  expected: string;
  /** A token or password: a wrong value is never echoed (start-up lines end up in logs). */
  secret?: boolean;
}

/** The same spec, marked secret. */
const secret = <T>(spec: SettingSpec<T>): SettingSpec<T> => ({ ...spec, secret: true });

const int = (min: number, max: number, fallback: number): SettingSpec<number> => ({
  schema: z.coerce.number().int().min(min).max(max).default(fallback),
  expected: `an integer from ${min} to ${max}`,
});
const bool = (fallback: boolean): SettingSpec<boolean> => ({
  schema: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => ['true', '1', 'yes', 'on'].includes(v)),
  expected: 'true or false',
});
/** A boolean whose absence means "decide from other settings" (S3_FORCE_PATH_STYLE follows S3_ENDPOINT). */
const maybeBool = (): SettingSpec<boolean | undefined> => ({
  schema: z
    .enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'])
    .optional()
    .transform((v) => (v === undefined ? undefined : ['true', '1', 'yes', 'on'].includes(v))),
  expected: 'true or false',
});
const text = (fallback?: string): SettingSpec<string | undefined> => ({
  schema: fallback === undefined ? z.string().min(1).optional() : z.string().min(1).default(fallback),
  expected: 'a non-empty string',
});
const oneOf = <T extends string>(values: readonly [T, ...T[]], fallback: T): SettingSpec<T> => ({
  schema: z.enum(values).default(fallback) as unknown as z.ZodType<T>,
  expected: `one of ${values.join(', ')}`,
});
const url = (protocols: readonly string[]): SettingSpec<string | undefined> => ({
  schema: z
    .string()
    .optional()
    .refine((v) => v === undefined || (protocols.some((p) => v.startsWith(`${p}://`)) && URL.canParse(v))),
  expected: `a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`,
});

/** A URL with a default; a trailing slash is dropped so that callers can append `/path`. */
const urlOr = (protocols: readonly string[], fallback: string): SettingSpec<string> => {
  const spec = url(protocols);
  return { schema: spec.schema.transform((v) => (v ?? fallback).replace(/\/+$/, '')), expected: spec.expected };
};

/** A comma list of platform ids (Discord snowflakes, Slack team/channel ids); absent = no restriction. */
const idList = (pattern: RegExp, what: string): SettingSpec<string[] | undefined> => ({
  schema: z
    .string()
    .optional()
    .transform((v) =>
      v
        ?.split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    )
    .refine((ids) => ids === undefined || (ids.length > 0 && ids.every((id) => pattern.test(id)))) as unknown as z.ZodType<string[] | undefined>,
  expected: `a comma-separated list of ${what}`,
});
const pattern = (re: RegExp, expected: string): SettingSpec<string | undefined> => ({
  schema: z.string().regex(re).optional(),
  expected,
});
/** An optional base URL; a trailing slash is dropped so that callers can append `/path`. */
const baseUrl = (protocols: readonly string[]): SettingSpec<string | undefined> => {
  const spec = url(protocols);
  // fetch refuses URLs with user:password@, and the key belongs in its own secret setting anyway.
  const schema = spec.schema.refine((v) => v === undefined || !URL.canParse(v) || (new URL(v).username === '' && new URL(v).password === ''));
  return { schema: schema.transform((v) => v?.replace(/\/+$/, '')), expected: `${spec.expected}, without user:password@` };
};
const SNOWFLAKE = /^\d{5,25}$/;
const SLACK_ID = /^[A-Z0-9]{2,30}$/;

const MiB = 1024 * 1024;

const SPECS = {
  HOST: text('127.0.0.1'),
  PORT: int(0, 65535, 3000),
  PUBLIC_URL: url(['http', 'https']),
  /**
   * Signs the media links posted to chats (a video over Discord's upload limit, opened without a playground
   * cookie). Unset: a random secret kept in DATA_DIR/media-link.secret; set it when several bot machines serve links.
   */
  MEDIA_LINK_SECRET: secret({ schema: z.string().min(32).optional(), expected: 'a secret of at least 32 characters (or unset: one is made in DATA_DIR)' }),
  /** How long a signed media link works. */
  MEDIA_LINK_TTL_HOURS: int(1, 24 * 365, 24 * 30),
  DATA_DIR: text('./data'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const, 'info'),

  DATABASE_URL: url(['postgres', 'postgresql']),
  PGLITE_DIR: text(),

  MEDIA_DIR: text(),
  MAX_UPLOAD_BYTES: int(1, 4096 * MiB, 50 * MiB),
  MAX_IMAGE_PIXELS: int(1, 1_000_000_000, 40_000_000),
  MAX_VIDEO_SECONDS: int(1, 24 * 3600, 120),
  MAX_VIDEO_WIDTH: int(16, 16384, 3840),
  MAX_VIDEO_HEIGHT: int(16, 16384, 2160),
  MAX_VIDEO_FRAMES: int(1, 1_000_000, 7200),
  FFMPEG_PATH: text(),
  FFPROBE_PATH: text(),

  MODELS_DIR: text(),
  MODELS_ALLOW_DOWNLOAD: bool(true),
  MODELS_HUB_URL: urlOr(['http', 'https'], 'https://huggingface.co'),
  HF_TOKEN: secret({
    schema: z
      .string()
      .regex(/^[\x21-\x7e]+$/)
      .optional(),
    expected: 'a Hugging Face access token (usually hf_...): printable characters, no spaces',
  }),
  ORT_PROVIDER: oneOf(['cpu', 'cuda'] as const, 'cpu'),
  ORT_CUDA_FALLBACK: bool(false),
  INFERENCE_THREADS: int(0, 256, 0),
  /**
   * Pulled models to use for their tasks although `npm run eval` has not measured them on this machine
   * (measured ones are ranked by their numbers; unmeasured pulled ones otherwise come after the npm ways).
   */
  PREFER_MODELS: {
    schema: z
      .string()
      .optional()
      .transform((v) =>
        (v ?? '')
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      )
      .refine((names) => names.every((n) => CATALOG.some((e) => e.name === n))) as unknown as z.ZodType<string[]>,
    expected: 'a comma-separated list of catalog model names (npm run models -- list), e.g. swin2sr-x2,migan',
  },
  WORKER_THREADS: int(1, 64, 1),

  JOB_TIMEOUT_SECONDS: int(1, 24 * 3600, 600),
  JOB_MAX_ATTEMPTS: int(1, 20, 3),
  JOB_RETRY_BACKOFF_MS: int(0, 600_000, 1000),
  USER_MAX_RUNNING_JOBS: int(1, 100, 2),
  USER_MAX_QUEUED_JOBS: int(1, 1000, 10),

  REDIS_URL: url(['redis', 'rediss']),
  QUEUE_PREFIX: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9_-]+$/)
      .default('vitron'),
    expected: 'letters, digits, _ or -',
  },
  RUN_WORKER: bool(true),
  WORKER_CONCURRENCY: int(0, 64, 0),
  WORKER_TASKS: text(),
  WORKER_MEMORY_BUDGET_MB: int(0, 4_194_304, 0),
  WORKER_LOCK_MS: int(1000, 3_600_000, 30_000),

  S3_BUCKET: text(),
  S3_ENDPOINT: url(['http', 'https']),
  S3_REGION: text('us-east-1'),
  S3_ACCESS_KEY_ID: text(),
  S3_SECRET_ACCESS_KEY: secret(text()),
  S3_FORCE_PATH_STYLE: maybeBool(),
  S3_PREFIX: {
    schema: z
      .string()
      .regex(/^(?!\/)[A-Za-z0-9._/-]+$/)
      .default('media/'),
    expected: "an object key prefix of letters, digits, '.', '_', '-' and '/', not starting with '/'",
  },
  S3_CACHE_DIR: text(),

  USER_RATE_LIMIT_PER_MINUTE: int(0, 10_000, 20),
  /** Unset: five users' worth (USER_RATE_LIMIT_PER_MINUTE × 5), so one busy server cannot starve the others. */
  WORKSPACE_RATE_LIMIT_PER_MINUTE: { schema: z.coerce.number().int().min(0).max(100_000).optional(), expected: 'an integer from 0 to 100000' },

  LLM_URL: baseUrl(['http', 'https']),
  LLM_MODEL: pattern(/^\S+$/, 'a model name without spaces, as the server lists it (qwen2.5vl:3b, llava)'),
  LLM_API_KEY: secret(pattern(/^[\x21-\x7e]+$/, 'an API key: printable characters, no spaces')),
  LLM_TIMEOUT_MS: int(1000, 3_600_000, 120_000),
  LLM_MAX_IMAGE_SIDE: int(64, 8192, 1024),
  /** Endpoint jobs running at once beside the inference threads (in-process queue): they wait on the network. */
  LLM_CONCURRENCY: int(1, 64, 4),
  /** How long a turn waits for the LLM's plan before the rule-based planner answers instead. */
  LLM_PLAN_TIMEOUT_MS: int(1000, 600_000, 30_000),
  /** Whether the model takes images: the planner then shows it the picture a turn is about. */
  LLM_VISION: bool(true),
  /** With LLM_URL set, the LLM plans every turn; false keeps the rule-based planner (the LLM still captions and answers). */
  LLM_PLANNER: bool(true),

  /** Generation engines, tried in this order; an engine is used when it is configured (URL set, weights pulled). */
  GENERATION_ENGINES: {
    schema: z
      .string()
      .default('comfyui,images-api,sd-turbo')
      .transform((v) =>
        v
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      )
      .refine((names) => names.length > 0 && names.every((n) => ['comfyui', 'images-api', 'sd-turbo'].includes(n))) as unknown as z.ZodType<string[]>,
    expected: 'a comma-separated list of comfyui, images-api, sd-turbo',
  },
  /** Images one user may generate or edit by words per day (UTC); 0 = no limit. */
  GENERATION_DAILY_QUOTA: int(0, 1_000_000, 50),
  COMFYUI_URL: baseUrl(['http', 'https']),
  /** A folder of the operator's own API-format workflow files, named <task>.json, used instead of ours. */
  COMFYUI_WORKFLOWS_DIR: text(),
  COMFYUI_TIMEOUT_MS: int(1000, 24 * 3_600_000, 600_000),
  IMAGES_API_URL: baseUrl(['http', 'https']),
  IMAGES_API_KEY: secret(pattern(/^[\x21-\x7e]+$/, 'an API key: printable characters, no spaces')),
  IMAGES_API_MODEL: {
    schema: z.string().regex(/^\S+$/).default('gpt-image-2.5-flare'),
    expected: 'a model name without spaces (gpt-image-2.5-flare, gpt-image-1.5, dall-e-3)',
  },
  IMAGES_API_TIMEOUT_MS: int(1000, 3_600_000, 300_000),

  /** off: nothing checked; flag: NSFW media is only posted where NSFW is allowed; block: NSFW media is never posted. */
  SAFETY: oneOf(['off', 'flag', 'block'] as const, 'flag'),
  /** The operator's own blocked prompt terms, comma-separated, on top of the built-in English list. */
  SAFETY_BLOCKED_TERMS: text(),
  /** Probability (Porn + Hentai + half of Sexy) above which a picture counts as NSFW. */
  SAFETY_NSFW_THRESHOLD: { schema: z.coerce.number().min(0).max(1).default(0.7), expected: 'a number from 0 to 1' },
  /** Slack channels where NSFW media may be posted (Discord reads its own channel flag). */
  SLACK_NSFW_CHANNELS: idList(SLACK_ID, 'Slack channel ids'),
  /** Whether the playground may show media the filter flags. */
  PLAYGROUND_NSFW: bool(false),

  DISCORD_TOKEN: secret(text()),
  DISCORD_APPLICATION_ID: pattern(SNOWFLAKE, 'a Discord application id (digits)'),
  DISCORD_GUILD_ID: pattern(SNOWFLAKE, 'a Discord server (guild) id (digits)'),
  DISCORD_REGISTER_COMMANDS: bool(true),
  DISCORD_ALLOWED_GUILDS: idList(SNOWFLAKE, 'Discord server ids'),
  DISCORD_ALLOWED_CHANNELS: idList(SNOWFLAKE, 'Discord channel ids'),
  DISCORD_ALLOWED_ROLE: pattern(SNOWFLAKE, 'a Discord role id (digits)'),
  DISCORD_API_URL: url(['http', 'https']),

  SLACK_BOT_TOKEN: secret(pattern(/^xoxb-[A-Za-z0-9-]+$/, 'a Slack bot token starting with xoxb-')),
  SLACK_APP_TOKEN: secret(pattern(/^xapp-[A-Za-z0-9-]+$/, 'a Slack app-level token starting with xapp- (Socket Mode)')),
  SLACK_SIGNING_SECRET: secret(pattern(/^[A-Za-z0-9]{16,}$/, 'the Slack signing secret (letters and digits)')),
  SLACK_PORT: int(0, 65535, 3001),
  SLACK_ALLOWED_TEAMS: idList(SLACK_ID, 'Slack workspace (team) ids'),
  SLACK_ALLOWED_CHANNELS: idList(SLACK_ID, 'Slack channel ids'),
  SLACK_API_URL: url(['http', 'https']),

  ADMIN_TOKEN: secret({
    schema: z.string().min(16).optional(),
    expected: 'a secret of at least 16 characters (or unset: no admin pages)',
  }),

  /**
   * The bearer token MCP clients send to /mcp on the playground's server; unset, /mcp refuses everyone, so a
   * server exposed through PUBLIC_URL never offers its tools to strangers (stdio needs no token).
   */
  MCP_TOKEN: secret({
    schema: z.string().min(16).optional(),
    expected: 'a secret of at least 16 characters (or unset: no MCP over HTTP)',
  }),
  /** Hosts an MCP client may name media URLs on (exact names, or suffixes starting with "."); unset: no URLs. */
  MCP_MEDIA_HOSTS: idList(/^\.?[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'host names such as images.example.com or .example.com'),
  /** Whether MCP tool results may carry media the NSFW filter flags. */
  MCP_NSFW: bool(false),

  METRICS_PORT: { schema: z.coerce.number().int().min(0).max(65535).optional(), expected: 'an integer from 0 to 65535' },
} satisfies Record<string, SettingSpec<unknown>>;

type Specs = typeof SPECS;
export type RawSettings = { [K in keyof Specs]: Specs[K] extends SettingSpec<infer T> ? T : never };

export interface Settings extends RawSettings {
  GENERATION_ENGINES: ('comfyui' | 'images-api' | 'sd-turbo')[];
  DATA_DIR: string;
  PGLITE_DIR: string;
  MEDIA_DIR: string;
  MODELS_DIR: string;
  HOST: string;
  QUEUE_PREFIX: string;
  /** Resolved number of intra-op threads for onnxruntime (INFERENCE_THREADS=0 means one per core). */
  inferenceThreads: number;
  /** Jobs a worker runs at once per lane (WORKER_CONCURRENCY=0 means WORKER_THREADS). */
  workerConcurrency: number;
  /** Tasks this worker accepts (WORKER_TASKS), or undefined for every task with a working specialist. */
  workerTasks: Task[] | undefined;
  /** Requests per minute of one Discord server or Slack workspace (WORKSPACE_RATE_LIMIT_PER_MINUTE, resolved; 0 = no limit). */
  workspaceRateLimitPerMinute: number;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const s = String(value);
  return JSON.stringify(s.length > 60 ? `${s.slice(0, 57)}...` : s);
}

/** Old setting names still read, with a one-line deprecation warning: new name → old name. */
const RENAMED: Partial<Record<keyof Specs, string>> = {
  ORT_PROVIDER: 'EXECUTION_PROVIDER',
  // One endpoint plans, talks and understands now, so its settings lost "VISION_".
  LLM_URL: 'VISION_LLM_URL',
  LLM_MODEL: 'VISION_LLM_MODEL',
  LLM_API_KEY: 'VISION_LLM_API_KEY',
  LLM_TIMEOUT_MS: 'VISION_LLM_TIMEOUT_MS',
  LLM_MAX_IMAGE_SIDE: 'VISION_LLM_MAX_IMAGE_SIDE',
  LLM_CONCURRENCY: 'VISION_LLM_CONCURRENCY',
};
const warnedRenames = new Set<string>();

/** A setting's raw text and the name it was found under (an old name keeps working, once warned about). */
function settingValue(env: NodeJS.ProcessEnv, name: keyof Specs): { given: string | undefined; from: string } {
  const old = RENAMED[name];
  if (env[name] !== undefined || old === undefined || env[old] === undefined) return { given: env[name], from: name };
  if (!warnedRenames.has(old)) {
    warnedRenames.add(old);
    process.emitWarning(`${old} is deprecated: set ${name}=${env[old]} instead.`, { type: 'DeprecationWarning', code: `VITRON_${old}` });
  }
  return { given: env[old], from: old };
}

/** Parses settings from an environment; throws SettingsError naming the first wrong setting. */
export function loadSettings(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Settings {
  const raw: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(SPECS) as [keyof Specs, SettingSpec<unknown>][]) {
    const { given, from } = settingValue(env, name);
    const value = given === undefined || given.trim() === '' ? undefined : given.trim();
    const parsed = spec.schema.safeParse(value);
    if (!parsed.success)
      throw new SettingsError(from, spec.expected, spec.secret && value !== undefined ? `a value of ${value.length} characters (not shown)` : describe(value));
    raw[name] = parsed.data;
  }
  const r = raw as RawSettings;
  if (r.LLM_URL !== undefined && r.LLM_MODEL === undefined) {
    throw new SettingsError('LLM_MODEL', 'the model to ask at LLM_URL (qwen2.5vl:3b, llava) when LLM_URL is set', 'nothing');
  }
  const dataDir = path.resolve(cwd, r.DATA_DIR as string);
  return {
    ...r,
    HOST: r.HOST as string,
    GENERATION_ENGINES: r.GENERATION_ENGINES as Settings['GENERATION_ENGINES'],
    DATA_DIR: dataDir,
    PGLITE_DIR: r.PGLITE_DIR?.startsWith('memory://') ? r.PGLITE_DIR : path.resolve(cwd, r.PGLITE_DIR ?? path.join(dataDir, 'db')),
    MEDIA_DIR: path.resolve(cwd, r.MEDIA_DIR ?? path.join(dataDir, 'media')),
    MODELS_DIR: path.resolve(cwd, r.MODELS_DIR ?? path.join(dataDir, 'models')),
    inferenceThreads: r.INFERENCE_THREADS === 0 ? Math.max(1, os.availableParallelism()) : r.INFERENCE_THREADS,
    QUEUE_PREFIX: r.QUEUE_PREFIX as string,
    workerConcurrency: r.WORKER_CONCURRENCY === 0 ? r.WORKER_THREADS : r.WORKER_CONCURRENCY,
    workerTasks: parseTaskList(r.WORKER_TASKS, describe),
    workspaceRateLimitPerMinute: r.WORKSPACE_RATE_LIMIT_PER_MINUTE ?? r.USER_RATE_LIMIT_PER_MINUTE * 5,
  };
}

/** WORKER_TASKS: a comma list of task names; a name that is no task (or a session command) stops start-up. */
function parseTaskList(value: string | undefined, show: (v: unknown) => string): Task[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const wrong = names.find((n) => !isTask(n) || isSessionTask(n));
  if (wrong !== undefined || names.length === 0) {
    throw new SettingsError('WORKER_TASKS', 'a comma-separated list of task names such as cutout,style', show(wrong ?? value));
  }
  return names as Task[];
}

/** The names of every setting, for .env.example checks and docs. */
export const SETTING_NAMES = Object.keys(SPECS) as (keyof Specs)[];
