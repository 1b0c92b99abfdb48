import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeVisionServer, type FakeVisionServer } from '../fakes/openai-vision/server.ts';

/** `npm run plan -- --planner llm` and `npm run eval:planner` against the scripted LLM, as an operator runs them. */

const REPO = path.resolve(import.meta.dirname, '../..');
const MODEL = 'qwen2.5vl:3b';
let fake: FakeVisionServer;
let dir: string;

function run(script: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
      // A directory without .env: only what the test sets.
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', NODE_PATH: path.join(REPO, 'node_modules'), LLM_URL: fake.url, LLM_MODEL: MODEL, DATA_DIR: dir, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  fake = await startFakeVisionServer({ models: [MODEL] });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-llm-cli-'));
  // tsx resolves from the working directory: let it find the repository's packages.
  await fs.symlink(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
});
afterAll(async () => {
  await fake?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('planner tools with an LLM', () => {
  it('plan --planner llm prints the LLM’s plan as one JSON line, and nothing else on stdout', async () => {
    fake.plans.push(JSON.stringify({ reply: null, invocations: [{ task: 'cutout', targets: ['current'], args: { phrase: 'the dog' } }] }));
    const result = await run(path.join(REPO, 'src/planner/cli.ts'), ['--planner', 'llm', '--with', 'image', 'get the dog out of the picture']);
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('{"invocations":[{"task":"cutout","targets":["current"],"args":{"phrase":"the dog"}}]}\n');
  });

  it('eval:planner scores a corpus, printing each miss; fallbacks are logged on stderr', async () => {
    const corpus = path.join(dir, 'corpus.tsv');
    await fs.writeFile(corpus, 'image\tcut out the dog\tcutout\nnone\twhat can you do?\t-\nimage\tmake it sepia\tadjust\n');
    fake.plans.push(
      JSON.stringify({ reply: null, invocations: [{ task: 'cutout', targets: ['current'], args: {} }] }),
      JSON.stringify({ reply: 'Pictures: cut-outs, edits, text reading.', invocations: [] }),
      // Two bad answers: the rule-based planner plans "make it sepia" (adjust) instead.
      'no idea',
      'still no idea',
    );
    const result = await run(path.join(REPO, 'src/planner/eval-cli.ts'), [corpus, '--planner', 'llm']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^llm planner: 3\/3 planned right \(100\.0 %\), [\d.]+ ms per turn\n$/);
    expect(result.stderr).toContain('llm planner: the rule-based planner answers this turn');
  });
});
