/**
 * Worker processes (test/helpers/fault-worker.ts) under a supervisor that does what systemd or Kubernetes
 * does in production: a worker that dies is started again. Deaths are recorded, so a test can count how
 * many workers one job took down.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';

export interface WorkerDeath {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

export class WorkerSupervisor {
  readonly deaths: WorkerDeath[] = [];
  /** Log lines (pino JSON) of every worker process, in arrival order. */
  readonly logs: Record<string, unknown>[] = [];
  private readonly running = new Set<Running>();
  private readonly restarts = new Set<Promise<void>>();
  private readonly failures: unknown[] = [];
  private stopping = false;

  constructor(private readonly env: Record<string, string>) {}

  /** Starts `count` workers and resolves once each is ready. */
  async start(count = 1): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.spawnWorker()));
  }

  /** Worker processes alive now, ready or still starting. */
  get alive(): number {
    return this.running.size;
  }

  get pids(): number[] {
    return [...this.running].map((r) => r.child.pid!);
  }

  /** Stops every worker (SIGKILL: a test's workers have nothing to hand back) and reports failed restarts. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled([...this.restarts]);
    const exits = [...this.running].map((r) => {
      r.child.kill('SIGKILL');
      return r.exited;
    });
    await Promise.all(exits);
    if (this.failures.length > 0) throw new AggregateError(this.failures, 'a worker could not be restarted');
  }

  private async spawnWorker(): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/fault-worker.ts'], {
      env: { ...process.env, LOG_LEVEL: 'info', ...this.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let entry!: Running;
    const exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.running.delete(entry);
        if (!this.stopping) {
          this.deaths.push({ pid: child.pid!, code, signal });
          const restart = this.spawnWorker().catch((error: unknown) => void this.failures.push(error));
          this.restarts.add(restart);
          void restart.finally(() => this.restarts.delete(restart));
        }
        resolve();
      });
    });
    entry = { child, exited };
    this.running.add(entry);
    await new Promise<void>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).on('line', (line) => {
        let logLine: Record<string, unknown>;
        try {
          logLine = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return;
        }
        this.logs.push(logLine);
        if (logLine.msg === 'worker ready') resolve();
      });
      void exited.then(() => reject(new Error(`worker process ${child.pid} exited before it was ready`)));
    });
  }
}
