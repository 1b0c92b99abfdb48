import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptMediaError, JobCancelledError, ToolFailedError, ToolMissingError, UnsupportedMediaError } from '../../src/errors.ts';
import { locateFfmpeg, parseProbe, probe, runFfmpeg } from '../../src/media/ffmpeg.ts';
import { startTool } from '../../src/media/ffmpeg/process.ts';
import { SYSTEM_FFMPEG, makeClip, makeTempDir } from '../helpers/media-fixtures.ts';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('locateFfmpeg', () => {
  it('finds the system binaries on PATH and reads the version', async () => {
    const tools = await locateFfmpeg({ FFMPEG_PATH: undefined, FFPROBE_PATH: undefined }, { searchPath: '/nonexistent:/usr/bin', useNpmBinaries: false });
    expect(tools.ffmpeg).toBe('/usr/bin/ffmpeg');
    expect(tools.ffprobe).toBe('/usr/bin/ffprobe');
    expect(tools.version).toMatch(/^\d+\.\d+/);
  });

  it('prefers FFMPEG_PATH / FFPROBE_PATH', async () => {
    const tools = await locateFfmpeg({ FFMPEG_PATH: '/usr/bin/ffmpeg', FFPROBE_PATH: '/usr/bin/ffprobe' }, { searchPath: '' });
    expect(tools).toMatchObject(SYSTEM_FFMPEG);
  });

  it('says which setting is wrong when a configured path does not exist', async () => {
    const error = await locateFfmpeg({ FFMPEG_PATH: '/no/such/ffmpeg', FFPROBE_PATH: undefined }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolMissingError);
    expect((error as Error).message).toMatch(/FFMPEG_PATH is set to "\/no\/such\/ffmpeg"/);
  });

  it('gives the install hint when nothing is found', async () => {
    const error = await locateFfmpeg({ FFMPEG_PATH: undefined, FFPROBE_PATH: undefined }, { searchPath: '/nonexistent', useNpmBinaries: false }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolMissingError);
    expect((error as Error).message).toMatch(/apt-get install -y ffmpeg/);
  });

  it('falls back to the npm-shipped binaries when they are installed', async (context) => {
    const tools = await locateFfmpeg({ FFMPEG_PATH: undefined, FFPROBE_PATH: undefined }, { searchPath: '/nonexistent' }).catch(() => undefined);
    if (!tools) return context.skip('@ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe are not installed');
    expect(tools.ffmpeg).toMatch(/node_modules\/@ffmpeg-installer\//);
    expect(tools.ffprobe).toMatch(/node_modules\/@ffprobe-installer\//);
  });
});

describe('parseProbe', () => {
  const stream = { codec_type: 'video', codec_name: 'h264', width: 1920, height: 1080, avg_frame_rate: '30000/1001' };

  it('estimates the frame count from duration and rate when the container does not record it', () => {
    const info = parseProbe({ streams: [stream], format: { format_name: 'matroska,webm', duration: '10.0' } });
    expect(info).toMatchObject({ fps: 30000 / 1001, frameCount: 300, frameCountExact: false, hasAudio: false });
  });

  it('swaps width and height for a phone video rotated 90°', () => {
    const rotated = { ...stream, side_data_list: [{ rotation: -90 }], nb_frames: '30' };
    expect(parseProbe({ streams: [rotated], format: {} })).toMatchObject({ width: 1080, height: 1920, rotation: 90, frameCount: 30, frameCountExact: true });
  });

  it('does not take cover art for a video', () => {
    const art = { ...stream, codec_name: 'mjpeg', disposition: { attached_pic: 1 } };
    expect(() => parseProbe({ streams: [{ codec_type: 'audio', codec_name: 'mp3' }, art], format: {} })).toThrow(UnsupportedMediaError);
  });
});

describe('running ffmpeg', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await makeTempDir()));
  afterEach(() => cleanup());

  it('probes a clip with audio', async () => {
    const info = await probe(SYSTEM_FFMPEG, await makeClip(dir, 'clip', { width: 160, height: 120, fps: 10, seconds: 2, audio: true }));
    expect(info).toMatchObject({
      width: 160,
      height: 120,
      fps: 10,
      durationSec: 2,
      frameCount: 20,
      frameCountExact: true,
      codec: 'h264',
      hasAudio: true,
      audioCodec: 'aac',
      rotation: 0,
    });
  });

  it('reports an unreadable file as corrupt media', async () => {
    const junk = path.join(dir, 'junk.mp4');
    await fs.writeFile(junk, Buffer.from('\x00\x00\x00\x18ftypisom this is not really an mp4'));
    await expect(probe(SYSTEM_FFMPEG, junk)).rejects.toBeInstanceOf(CorruptMediaError);
  });

  it('puts the stderr of a failed run into the error', async () => {
    const error = await runFfmpeg(SYSTEM_FFMPEG, ['-i', path.join(dir, 'missing.mp4'), '-f', 'null', '-']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolFailedError);
    expect((error as ToolFailedError).details.stderr).toMatch(/No such file or directory/);
    expect((error as Error).message).toMatch(/^ffmpeg failed \(exit code 1\): .*No such file or directory/);
  });

  it('reports progress in seconds of output', async () => {
    const seen: number[] = [];
    await runFfmpeg(SYSTEM_FFMPEG, ['-f', 'lavfi', '-i', 'testsrc=size=64x48:rate=25:duration=2', '-f', 'null', '-'], { onProgress: (s) => seen.push(s) });
    expect(seen.at(-1)).toBeCloseTo(2, 1);
  });

  it('kills ffmpeg when the signal aborts, and rejects with JobCancelledError', async () => {
    const controller = new AbortController();
    // An endless source: only the abort can end this run.
    const proc = startTool(
      SYSTEM_FFMPEG.ffmpeg,
      ['-hide_banner', '-nostdin', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25', '-progress', 'pipe:3', '-f', 'null', '-'],
      {
        signal: controller.signal,
        onExtraLine: (line) => {
          if (line.startsWith('frame=')) controller.abort();
        },
      },
    );
    proc.stdout.resume();
    await expect(proc.done).rejects.toBeInstanceOf(JobCancelledError);
    expect(isRunning(proc.pid!)).toBe(false);
  });

  it('does not start at all when the signal is already aborted', async () => {
    await expect(runFfmpeg(SYSTEM_FFMPEG, ['-version'], { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(JobCancelledError);
  });
});
