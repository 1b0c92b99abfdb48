import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

/** `npm run worker` as a child process: the real src/worker/main.ts, configured through its environment. */
export interface WorkerProcess {
  child: ChildProcess;
  /** Log lines (pino JSON) the worker has printed so far. */
  logs: Record<string, unknown>[];
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts'], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const logs: Record<string, unknown>[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'worker ready') resolve();
      } catch {
        // Not a log line.
      }
    });
    void exited.then((code) => reject(new Error(`worker process exited with ${code} before it was ready`)));
  });
  await ready;
  return {
    child,
    logs,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
