import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTDATA_FILES } from './media-fixtures.ts';
import { strictPrerequisites } from './prerequisites.ts';

const exec = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Outcome {
  exitCode: number;
  output: string;
  tests: { path: string; status: string; failure: string }[];
}

/** prerequisites-probe.ts run by a vitest of its own, with the photos looked for in `photosDir`. */
async function runProbe(dir: string, photosDir: string, strict: '0' | '1'): Promise<Outcome> {
  const config = path.join(dir, 'probe.config.mjs');
  await writeFile(config, "export default { test: { include: ['test/helpers/prerequisites-probe.ts'] } };\n");
  const report = path.join(dir, `report-${strict}.json`);
  // Without the VITEST_* variables of the vitest running this test, so the child behaves as a run from a shell.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('VITEST')));
  const args = [
    'node_modules/vitest/vitest.mjs',
    'run',
    '--root',
    ROOT,
    '--config',
    config,
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${report}`,
  ];
  let exitCode = 0;
  let output = '';
  try {
    const done = await exec(process.execPath, args, {
      cwd: ROOT,
      env: { ...env, CI: '', VITRON_TESTDATA_DIR: photosDir, VITRON_REQUIRE_PREREQUISITES: strict },
      timeout: 120_000,
    });
    output = done.stdout + done.stderr;
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    exitCode = failed.code ?? -1;
    output = `${failed.stdout ?? ''}${failed.stderr ?? ''}`;
  }
  const json = JSON.parse(await readFile(report, 'utf8')) as {
    testResults: { assertionResults: { ancestorTitles: string[]; title: string; status: string; failureMessages: string[] }[] }[];
  };
  const tests = json.testResults.flatMap((file) =>
    file.assertionResults.map((a) => ({ path: [...a.ancestorTitles, a.title].join(' > '), status: a.status, failure: a.failureMessages.join('\n') })),
  );
  return { exitCode, output, tests };
}

describe('strictPrerequisites', () => {
  it('is on with VITRON_REQUIRE_PREREQUISITES=1, off with =0 even in CI, and follows CI when unset', () => {
    expect(strictPrerequisites({ VITRON_REQUIRE_PREREQUISITES: '1' })).toBe(true);
    expect(strictPrerequisites({ VITRON_REQUIRE_PREREQUISITES: '0', CI: 'true' })).toBe(false);
    expect(strictPrerequisites({ CI: 'true' })).toBe(true);
    expect(strictPrerequisites({ CI: 'false' })).toBe(false);
    expect(strictPrerequisites({})).toBe(false);
  });
});

describe('a test needing the photos, run where they are missing or present (a child vitest on prerequisites-probe.ts)', () => {
  let dir: string;
  let empty: string;
  let full: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'vitron-prerequisites-'));
    empty = await mkdtemp(path.join(dir, 'empty-'));
    full = await mkdtemp(path.join(dir, 'full-'));
    // The probe reads each file back and expects its own name: the check is for the files, not their pixels.
    await Promise.all(TESTDATA_FILES.map((name) => writeFile(path.join(full, name), name)));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('strict: fails the test and the group, naming the missing folder and files and how to provide them; the run exits non-zero', {
    timeout: 150_000,
  }, async () => {
    const run = await runProbe(dir, empty, '1');
    expect(run.exitCode).not.toBe(0);
    expect(run.tests.map((t) => [t.path, t.status])).toEqual([
      ['reads chelsea.png', 'failed'],
      [`a group reading horse.png > has the test photos in ${empty}`, 'failed'],
    ]);
    for (const test of run.tests) {
      expect(test.failure).toContain(`PrerequisiteMissingError: missing the test photos in ${empty} (${TESTDATA_FILES.join(', ')} not found)`);
      expect(test.failure).toContain('set VITRON_TESTDATA_DIR to a folder holding them');
      // The test body never ran into the missing file.
      expect(test.failure).not.toContain('ENOENT');
    }
  });

  it('lax: skips the test and the group, saying why in the output and in the group title; the run exits 0', { timeout: 150_000 }, async () => {
    const run = await runProbe(dir, empty, '0');
    expect(run.exitCode).toBe(0);
    const reason = `missing the test photos in ${empty}`;
    expect(run.tests.map((t) => t.status)).toEqual(['skipped', 'skipped']);
    expect(run.tests[1]!.path).toContain(`a group reading horse.png (skipped: ${reason}`);
    expect(run.output).toContain(`skipping tests: ${reason}`);
  });

  it('strict, with the photos there: runs both tests, which pass', { timeout: 150_000 }, async () => {
    const run = await runProbe(dir, full, '1');
    expect(run.tests.map((t) => [t.path, t.status])).toEqual([
      ['reads chelsea.png', 'passed'],
      ['a group reading horse.png > reads horse.png', 'passed'],
    ]);
    expect(run.exitCode).toBe(0);
  });
});
