import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES, loadSettings, type Settings } from '../../src/config/settings.ts';

/**
 * README and docs/*.md name settings and code constants in UPPER_SNAKE case; a renamed or removed one
 * leaves the docs telling operators to set something nothing reads. These tests hold the docs to the
 * settings schema and the code, and the defaults the docs state to the schema's defaults.
 */
const root = path.resolve(import.meta.dirname, '../..');
// docs/claims.md is the audit record: it quotes the wrong names that were fixed.
const docFiles = [
  'README.md',
  ...fs
    .readdirSync(path.join(root, 'docs'))
    .filter((f) => f.endsWith('.md') && f !== 'claims.md')
    .map((f) => `docs/${f}`),
];
const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');

/** The code that may read an environment variable or define a constant a doc names (tests' own files excluded). */
function codeText(): string {
  const dirs = ['src', 'adapters', 'bench', 'eval', 'scripts', 'models', 'test/helpers'];
  const parts = [read('package.json'), read('.ci/run')];
  for (const dir of dirs) {
    const full = path.join(root, dir);
    if (!fs.existsSync(full)) continue;
    for (const entry of fs.readdirSync(full, { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && /\.(ts|js|mjs|sh|json)$/.test(entry.name)) parts.push(fs.readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
    }
  }
  return parts.join('\n');
}

/** Names the docs use that are neither our settings nor our code: other systems' names and placeholders. */
const OTHERS_NAMES: Record<string, string> = {
  APP_ID: 'placeholder in the Discord invite URL',
  GUILD_INSTALL: "Discord's integration type, as its API docs spell it",
  BOT_DM: "Discord's interaction context, as its API docs spell it",
  GUILD_CREATE: "Discord's gateway event, as its API docs spell it",
  INPAINT_NS: "OpenCV's other inpainting flag, named to say which one is not used",
};

const UPPER_SNAKE = /\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g;

describe('settings and constants named in README and docs/*.md', () => {
  it('every UPPER_SNAKE name in README.md and docs/*.md is a setting of src/config/settings.ts or appears in the code', () => {
    const code = codeText();
    const unknown: string[] = [];
    for (const file of docFiles) {
      for (const name of new Set(read(file).match(UPPER_SNAKE) ?? [])) {
        if ((SETTING_NAMES as readonly string[]).includes(name) || name in OTHERS_NAMES) continue;
        if (!new RegExp(`\\b${name}\\b`).test(code)) unknown.push(`${file}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it("every setting README's Configuration section names is in the settings schema", () => {
    const readme = read('README.md');
    const section = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Discord and Slack'));
    const named = [...new Set(section.match(/`[A-Z][A-Z0-9_]+/g)?.map((s) => s.slice(1)) ?? [])];
    expect(named.length).toBeGreaterThan(30);
    // The old VISION_LLM_* names are still read, with a warning, and the section says so.
    const missing = named.filter((n) => !(SETTING_NAMES as readonly string[]).includes(n) && !n.startsWith('VISION_LLM_') && n !== 'MAX_VIDEO_WIDTH/HEIGHT');
    expect(missing).toEqual([]);
  });
});

/** A default a doc states in words, and the value loadSettings gives an empty environment. */
interface StatedDefault {
  file: string;
  says: string;
  setting: keyof Settings;
  value: unknown;
}

const STATED_DEFAULTS: StatedDefault[] = [
  { file: 'README.md', says: '`SAFETY=off|flag|block` (default `flag`)', setting: 'SAFETY', value: 'flag' },
  { file: 'README.md', says: 'pictures per user per\n  UTC day, default 50', setting: 'GENERATION_DAILY_QUOTA', value: 50 },
  { file: 'docs/safety.md', says: '| `SAFETY` | `flag` |', setting: 'SAFETY', value: 'flag' },
  { file: 'docs/safety.md', says: '| `SAFETY_NSFW_THRESHOLD` | `0.7` |', setting: 'SAFETY_NSFW_THRESHOLD', value: 0.7 },
  { file: 'docs/safety.md', says: '| `PLAYGROUND_NSFW` | `false` |', setting: 'PLAYGROUND_NSFW', value: false },
  { file: 'docs/api.md', says: '`MEDIA_LINK_TTL_HOURS`, default 30 days', setting: 'MEDIA_LINK_TTL_HOURS', value: 30 * 24 },
  { file: 'docs/discord.md', says: '`MEDIA_LINK_TTL_HOURS`, default 30 days', setting: 'MEDIA_LINK_TTL_HOURS', value: 30 * 24 },
  { file: 'docs/api.md', says: '`MAX_UPLOAD_BYTES` (50 MiB by default', setting: 'MAX_UPLOAD_BYTES', value: 50 * 1024 * 1024 },
  {
    file: 'docs/generation.md',
    says: '`GENERATION_ENGINES` (default\n`comfyui,images-api,sd-turbo`)',
    setting: 'GENERATION_ENGINES',
    value: ['comfyui', 'images-api', 'sd-turbo'],
  },
  { file: 'docs/generation.md', says: '`GENERATION_DAILY_QUOTA` (default 50', setting: 'GENERATION_DAILY_QUOTA', value: 50 },
  { file: 'docs/planner.md', says: '`LLM_PLAN_TIMEOUT_MS` (default 30 s)', setting: 'LLM_PLAN_TIMEOUT_MS', value: 30_000 },
  { file: 'docs/planner.md', says: '(`LLM_VISION`, default\n  true)', setting: 'LLM_VISION', value: true },
  { file: 'docs/slack.md', says: '`SLACK_PORT` (default 3001)', setting: 'SLACK_PORT', value: 3001 },
  { file: 'docs/deploy.md', says: '`true` (default) also runs a worker inside the bot', setting: 'RUN_WORKER', value: true },
  { file: 'docs/deploy.md', says: 'job lock (default 30 s)', setting: 'WORKER_LOCK_MS', value: 30_000 },
  { file: 'docs/deploy.md', says: '`cpu` (default) or `cuda`', setting: 'ORT_PROVIDER', value: 'cpu' },
  { file: 'docs/deploy.md', says: '`false` (default) logs one line', setting: 'ORT_CUDA_FALLBACK', value: false },
  { file: 'docs/models.md', says: '| `MODELS_ALLOW_DOWNLOAD` | `true` |', setting: 'MODELS_ALLOW_DOWNLOAD', value: true },
  { file: 'docs/models.md', says: '| `MODELS_HUB_URL` | `https://huggingface.co` |', setting: 'MODELS_HUB_URL', value: 'https://huggingface.co' },
  { file: 'docs/models.md', says: '| `MODELS_DIR` | `DATA_DIR/models` |', setting: 'MODELS_DIR', value: '/srv/vitron/data/models' },
  { file: 'docs/models.md', says: '| `LLM_TIMEOUT_MS` | 120000 |', setting: 'LLM_TIMEOUT_MS', value: 120_000 },
  { file: 'docs/models.md', says: '| `LLM_MAX_IMAGE_SIDE` | 1024 |', setting: 'LLM_MAX_IMAGE_SIDE', value: 1024 },
  { file: 'docs/models.md', says: '| `LLM_CONCURRENCY` | 4 |', setting: 'LLM_CONCURRENCY', value: 4 },
  {
    file: 'docs/comfyui.md',
    says: '| `COMFYUI_TIMEOUT_MS` | longest one request may take (all its images) before it is withdrawn | 600000 |',
    setting: 'COMFYUI_TIMEOUT_MS',
    value: 600_000,
  },
  { file: 'docs/images-api.md', says: '| `IMAGES_API_MODEL` | `gpt-image-2.5-flare` by default', setting: 'IMAGES_API_MODEL', value: 'gpt-image-2.5-flare' },
];

describe('defaults stated in README and docs/*.md', () => {
  const defaults = loadSettings({}, '/srv/vitron');

  it.each(STATED_DEFAULTS)('$file says $setting defaults to $value, and loadSettings({}) gives that', ({ file, says, setting, value }) => {
    expect(read(file)).toContain(says);
    expect(defaults[setting]).toEqual(value);
  });

  it("docs/deploy.md's WORKER_CONCURRENCY default is WORKER_THREADS, and README's unset WORKSPACE_RATE_LIMIT_PER_MINUTE is five users' worth", () => {
    expect(read('docs/deploy.md')).toContain('(default `WORKER_THREADS`)');
    expect(loadSettings({ WORKER_THREADS: '3' }).workerConcurrency).toBe(3);
    expect(read('README.md')).toContain("(unset: five times the user's)");
    expect(loadSettings({ USER_RATE_LIMIT_PER_MINUTE: '7' }).workspaceRateLimitPerMinute).toBe(35);
  });
});
