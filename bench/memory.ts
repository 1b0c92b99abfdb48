/** Peak resident memory of the real bot with every default model warm, against the same bot idle. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { formatBytes } from '../src/media/limits.ts';
import type { BenchSection } from './measure.ts';

const exec = promisify(execFile);

export const memorySection: BenchSection = {
  name: 'memory',
  async run() {
    const probe = new URL('./memory-probe.ts', import.meta.url).pathname;
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', probe], { maxBuffer: 1 << 20 });
    const { idleRssBytes, peakRssBytes } = JSON.parse(stdout.trim().split('\n').at(-1)!) as { idleRssBytes: number; peakRssBytes: number };
    return {
      title: 'memory: the bot process (PGlite, one inference thread) idle, then with ISNet, PP-OCR, CenterNet, BlazeFace and ESRGAN-slim warm',
      lines: [
        `  idle after start (RSS)                             ${formatBytes(idleRssBytes).padStart(10)}`,
        `  peak with all default models warm (max RSS)        ${formatBytes(peakRssBytes).padStart(10)}`,
        `  peak / idle                                        ${(peakRssBytes / idleRssBytes).toFixed(2).padStart(9)}×`,
      ],
      goals: [],
    };
  },
};
