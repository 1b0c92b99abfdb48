import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Settings } from '../../config/settings.ts';
import { ToolMissingError } from '../../errors.ts';
import { runTool } from './process.ts';

/** The ffmpeg and ffprobe binaries that every media function is given; found once at start-up. */
export interface FfmpegTools {
  ffmpeg: string;
  ffprobe: string;
  /** "5.1.9-0+deb12u1", from `ffmpeg -version`. */
  version?: string;
}

export interface LocateOptions {
  /** Directories to search, as in PATH; defaults to process.env.PATH. */
  searchPath?: string;
  /** Whether to fall back to the npm-shipped @ffmpeg-installer / @ffprobe-installer binaries. */
  useNpmBinaries?: boolean;
}

const APT_HINT = 'Install it with "apt-get install -y ffmpeg", or set FFMPEG_PATH and FFPROBE_PATH to the binaries.';

async function isExecutable(file: string): Promise<boolean> {
  try {
    await fs.access(file, constants.X_OK);
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

async function onPath(name: string, searchPath: string): Promise<string | undefined> {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The optional npm packages export `{ path }`; a variable specifier keeps tsc from requiring them. */
async function fromNpm(pkg: string): Promise<string | undefined> {
  try {
    const mod = (await import(pkg)) as { default?: { path?: unknown }; path?: unknown };
    const file = mod.default?.path ?? mod.path;
    return typeof file === 'string' && (await isExecutable(file)) ? file : undefined;
  } catch {
    return undefined;
  }
}

async function versionOf(ffmpeg: string): Promise<string | undefined> {
  try {
    const out = (await runTool(ffmpeg, ['-hide_banner', '-version'])).toString('utf8');
    return /version\s+(\S+)/.exec(out)?.[1];
  } catch {
    return undefined;
  }
}

async function locateOne(tool: 'ffmpeg' | 'ffprobe', configured: string | undefined, setting: string, options: Required<LocateOptions>): Promise<string> {
  if (configured) {
    // A configured path that does not work is a configuration mistake: say so instead of silently falling back.
    if (await isExecutable(configured)) return configured;
    throw new ToolMissingError(tool, `${setting} is set to "${configured}", which is not an executable file. ${APT_HINT}`);
  }
  const found =
    (await onPath(tool, options.searchPath)) ??
    (options.useNpmBinaries ? await fromNpm(tool === 'ffmpeg' ? '@ffmpeg-installer/ffmpeg' : '@ffprobe-installer/ffprobe') : undefined);
  if (found) return found;
  throw new ToolMissingError(tool, APT_HINT);
}

/** FFMPEG_PATH/FFPROBE_PATH when set, else the binaries on PATH, else the npm-shipped ones if installed. */
export async function locateFfmpeg(settings: Pick<Settings, 'FFMPEG_PATH' | 'FFPROBE_PATH'>, options: LocateOptions = {}): Promise<FfmpegTools> {
  const resolved: Required<LocateOptions> = { searchPath: options.searchPath ?? process.env.PATH ?? '', useNpmBinaries: options.useNpmBinaries ?? true };
  const ffmpeg = await locateOne('ffmpeg', settings.FFMPEG_PATH, 'FFMPEG_PATH', resolved);
  const ffprobe = await locateOne('ffprobe', settings.FFPROBE_PATH, 'FFPROBE_PATH', resolved);
  const version = await versionOf(ffmpeg);
  if (version === undefined) throw new ToolMissingError('ffmpeg', `${ffmpeg} exists but does not run ("${ffmpeg} -version" failed). ${APT_HINT}`);
  return { ffmpeg, ffprobe, version };
}
