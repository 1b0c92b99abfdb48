/**
 * What a user's machine holds: starts the bot exactly as `npm start` does, on a data dir it has already
 * opened once (so PGlite's first-boot init is not in the figure), samples the resident memory of the whole
 * process tree (npm, and node with its inference threads: the start script execs it), then runs every default CPU model twice
 * through the playground's HTTP API (cutout: ISNet; OCR: PP-OCR; detect: CenterNet; blur the faces:
 * BlazeFace; upscale: ESRGAN-slim; every upload also passes the NSFW classifier) while sampling the tree.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';

export interface MemoryFigures {
  /** The tree a few seconds after the second start reported ready. */
  idleTreeBytes: number;
  /** The bot's node process alone at the same moment (without npm). */
  idleBotBytes: number;
  /** The tree once the jobs are done and the bot is idle again. */
  steadyTreeBytes: number;
  /** The largest tree sample (every 100 ms) from the second start to the steady figure. */
  maxTreeBytes: number;
  /** The tasks in the order run (all once, then all again), with the tree's RSS after each run. */
  tasks: { text: string; afterFirstBytes: number; afterSecondBytes: number }[];
}

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const SAMPLE_MS = 100;
/** After ready (or after the last job), long enough for start-up work and a GC to settle. */
const SETTLE_MS = 5000;

const DEFAULTS_ONLY = Object.fromEntries(
  ['REDIS_URL', 'DATABASE_URL', 'S3_BUCKET', 'LLM_URL', 'DISCORD_TOKEN', 'SLACK_BOT_TOKEN', 'ADMIN_TOKEN', 'METRICS_PORT'].map((name) => [name, '']),
);

interface Process {
  pid: number;
  ppid: number;
  rssBytes: number;
  command: string;
}

async function processes(): Promise<Process[]> {
  const found: Process[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = await fs.readFile(`/proc/${entry}/status`, 'utf8');
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
      const command = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '';
      found.push({ pid: Number(entry), ppid, rssBytes: rssKb * 1024, command });
    } catch {
      // The process ended between readdir and read.
    }
  }
  return found;
}

/** The root and every descendant, with its resident memory now. */
async function tree(rootPid: number): Promise<Process[]> {
  const all = await processes();
  const members = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of all) {
      if (!members.has(p.pid) && members.has(p.ppid)) {
        members.add(p.pid);
        grew = true;
      }
    }
  }
  return all.filter((p) => members.has(p.pid));
}

const sum = (ps: Process[]) => ps.reduce((total, p) => total + p.rssBytes, 0);

interface StartedBot {
  child: ChildProcess;
  url: string;
  stop(): Promise<void>;
}

/** `npm start` in the repository with DATA_DIR set; resolves with the playground's URL once it is ready. */
async function startBot(dataDir: string): Promise<StartedBot> {
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    // The embedded defaults whatever a developer's .env says (an empty value is unset, and dotenv keeps it).
    env: { ...process.env, ...DEFAULTS_ONLY, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      const match = /vitron-chat playground: (\S+)/.exec(output);
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`npm start exited (${code}) before it was ready:\n${output.slice(-2000)}`)));
  });
  const exited = once(child, 'exit');
  return {
    child,
    url,
    async stop() {
      // The whole group: npm passes SIGTERM on, but a stuck bot must not outlive the bench.
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** One user of the playground: its cookie, one conversation, one job at a time. */
class PlaygroundUser {
  private cookie = '';
  private conversation = '';
  constructor(private readonly url: string) {}

  private async fetch(route: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(`${this.url}${route}`, { ...init, headers: { ...(init.headers ?? {}), cookie: this.cookie } });
    const set = response.headers.get('set-cookie');
    if (set) this.cookie = set.split(';')[0]!;
    if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${route}: ${response.status} ${await response.text()}`);
    return response;
  }

  async runJob(text: string, file: Buffer): Promise<void> {
    if (this.conversation === '') {
      const created = (await (
        await this.fetch('/api/conversations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
      ).json()) as { id: string };
      this.conversation = created.id;
    }
    const form = new FormData();
    form.set('text', text);
    form.set('file', new Blob([new Uint8Array(file)], { type: 'image/png' }), 'input.png');
    const turn = (await (await this.fetch(`/api/conversations/${this.conversation}/turns`, { method: 'POST', body: form })).json()) as {
      job?: { id: string };
      botTurn?: { text?: string };
    };
    if (!turn.job) throw new Error(`"${text}" started no job: ${turn.botTurn?.text ?? 'no reply'}`);
    for (;;) {
      const job = (await (await this.fetch(`/api/jobs/${turn.job.id}`)).json()) as { state: string; error?: { message?: string } };
      if (job.state === 'succeeded') return;
      if (job.state !== 'queued' && job.state !== 'running') throw new Error(`"${text}" ${job.state}: ${job.error?.message ?? ''}`);
      await sleep(100);
    }
  }
}

async function inputs(): Promise<{ text: string; file: Buffer }[]> {
  const photo = await sharp({ create: { width: 1024, height: 1024, channels: 3, background: '#8ab' } })
    .composite([{ input: Buffer.from('<svg width="1024" height="1024"><circle cx="512" cy="512" r="300" fill="#c33"/></svg>') }])
    .png()
    .toBuffer();
  const lines = await sharp(
    Buffer.from(
      '<svg width="800" height="200"><rect width="800" height="200" fill="white"/><text x="40" y="120" font-size="72" font-family="sans-serif">HELLO WORLD</text></svg>',
    ),
  )
    .png()
    .toBuffer();
  const small = await sharp(photo).resize(256, 256).png().toBuffer();
  return [
    { text: 'cut out the subject', file: photo },
    { text: 'read the text', file: lines },
    { text: 'how many people are there?', file: photo },
    { text: 'blur the faces', file: photo },
    { text: 'upscale it 2x', file: small },
  ];
}

export async function measureMemory(): Promise<MemoryFigures> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-memory-'));
  try {
    // First boot: PGlite's initdb and the migrations, in a process that is then gone.
    await (await startBot(dataDir)).stop();
    const bot = await startBot(dataDir);
    let maxTreeBytes = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        maxTreeBytes = Math.max(maxTreeBytes, sum(await tree(bot.child.pid!)));
        await sleep(SAMPLE_MS);
      }
    })();
    try {
      await sleep(SETTLE_MS);
      const idle = await tree(bot.child.pid!);
      const idleBotBytes = Math.max(...idle.filter((p) => p.command === 'node').map((p) => p.rssBytes));
      const user = new PlaygroundUser(bot.url);
      const jobs = await inputs();
      const tasks: MemoryFigures['tasks'] = [];
      for (const job of jobs) {
        await user.runJob(job.text, job.file);
        tasks.push({ text: job.text, afterFirstBytes: sum(await tree(bot.child.pid!)), afterSecondBytes: 0 });
      }
      for (const task of tasks) {
        await user.runJob(task.text, jobs.find((j) => j.text === task.text)!.file);
        task.afterSecondBytes = sum(await tree(bot.child.pid!));
      }
      await sleep(SETTLE_MS);
      const steadyTreeBytes = sum(await tree(bot.child.pid!));
      sampling = false;
      await sampler;
      return { idleTreeBytes: sum(idle), idleBotBytes, steadyTreeBytes, maxTreeBytes, tasks };
    } finally {
      sampling = false;
      await bot.stop();
    }
  } finally {
    await fs.rm(dataDir, { recursive: true, force: true });
  }
}
