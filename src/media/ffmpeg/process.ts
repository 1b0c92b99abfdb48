import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { JobCancelledError, ToolFailedError, ToolMissingError } from '../../errors.ts';

/** Enough stderr to explain a failure; ffmpeg can print megabytes of warnings on a long bad file. */
const STDERR_TAIL_CHARS = 16 * 1024;

export interface StartOptions {
  signal?: AbortSignal;
  /** Open a pipe to the tool's stdin (otherwise it reads nothing). */
  stdin?: boolean;
  /** Called for each line the tool writes to fd 3 (ffmpeg `-progress pipe:3`). */
  onExtraLine?: (line: string) => void;
}

export interface ToolProcess {
  readonly pid: number | undefined;
  readonly stdin: Writable | null;
  readonly stdout: Readable;
  /**
   * Settles when the process has exited and its pipes closed: resolves on exit code 0, rejects with
   * JobCancelledError after an abort, ToolMissingError when the binary cannot be started, and
   * ToolFailedError (carrying the stderr tail) otherwise. The caller must consume stdout, or a chatty
   * tool blocks on a full pipe and this never settles.
   */
  readonly done: Promise<void>;
  stderr(): string;
  /** Kills the process if it is still running; for consumers that stop early. */
  kill(): void;
}

/** Spawns a media tool with captured stderr and abort-to-kill. The one place that calls `spawn`. */
export function startTool(command: string, args: readonly string[], options: StartOptions = {}): ToolProcess {
  const { signal } = options;
  if (signal?.aborted) throw new JobCancelledError();
  const name = path.basename(command);
  const child: ChildProcess = spawn(command, args, {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', options.onExtraLine ? 'pipe' : 'ignore'],
    windowsHide: true,
  });

  let tail = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
  });

  const extra = child.stdio[3] as Readable | null | undefined;
  if (extra && options.onExtraLine) {
    const onLine = options.onExtraLine;
    let partial = '';
    extra.setEncoding('utf8');
    extra.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.trim());
    });
  }

  let cancelled = false;
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onAbort = (): void => {
    cancelled = true;
    kill();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  // A tool that dies while we write its stdin raises EPIPE on the stream; the exit status explains more.
  child.stdin?.on('error', () => {});

  const done = new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (error) reject(error);
      else resolve();
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'EACCES') {
        settle(
          new ToolMissingError(
            name,
            `Could not start ${command} (${error.code}). Install it with "apt-get install -y ffmpeg" or set FFMPEG_PATH/FFPROBE_PATH.`,
          ),
        );
      } else {
        settle(error);
      }
    });
    child.once('close', (code, killSignal) => {
      if (cancelled) settle(new JobCancelledError());
      else if (code === 0) settle();
      else settle(new ToolFailedError(name, code === null ? `killed by ${killSignal ?? 'a signal'}` : `exit code ${code}`, tail));
    });
  });
  // Consumers that stop early never await `done`; its rejection must not become an unhandled one.
  done.catch(() => {});

  return { pid: child.pid, stdin: child.stdin, stdout: child.stdout!, done, stderr: () => tail, kill };
}

/** Runs a tool to completion and returns everything it wrote to stdout. */
export async function runTool(command: string, args: readonly string[], options: StartOptions = {}): Promise<Buffer> {
  const proc = startTool(command, args, options);
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  await proc.done;
  return Buffer.concat(chunks);
}
