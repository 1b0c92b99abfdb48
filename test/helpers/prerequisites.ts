/**
 * What some tests need from the machine: the test photos, Redis, PostgreSQL (a server, or its binaries for
 * a private one), redis-server, ffmpeg and Chromium. CI always has them (.ci/run installs and starts them),
 * so there a missing one must turn the test red, not skip it quietly; on a developer's machine the test
 * skips, saying what is missing and how to provide it.
 *
 * Strict mode: VITRON_REQUIRE_PREREQUISITES=1 (exported by .ci/run); =0 turns it off; unset, it follows CI.
 * Pulled model weights are not prerequisites: they cannot be downloaded here, and those tests skip anywhere.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it, type TestAPI } from 'vitest';
import { SYSTEM_FFMPEG, TESTDATA_DIR, TESTDATA_FILES, testdata } from './media-fixtures.ts';

const exec = promisify(execFile);

/** The shared test servers (CI starts both); a test that needs a server of its own starts a private one. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
/** Debian's Chromium, driven by playwright-core (DESIGN.md, Testing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether a missing prerequisite fails the test (CI) rather than skipping it (a developer's machine). */
export function strictPrerequisites(env: NodeJS.ProcessEnv = process.env): boolean {
  const setting = env.VITRON_REQUIRE_PREREQUISITES;
  if (setting === '1') return true;
  if (setting === '0') return false;
  return Boolean(env.CI) && env.CI !== 'false';
}

interface Prerequisite {
  /** What the tests need, as a person would name it. */
  what: string;
  /** How to provide it. */
  provide: string;
  /** Why it is missing, or undefined when it is here. */
  check(): Promise<string | undefined>;
}

async function redisAnswers(): Promise<string | undefined> {
  // Imported here, as the other checks' modules are, so that a file needing only the photos loads none of them.
  const { Redis } = await import('ioredis');
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    const pong = await client.ping();
    return pong === 'PONG' ? undefined : `it answered PING with ${pong}`;
  } catch (error) {
    return `no answer (${(error as Error).message || String(error)})`;
  } finally {
    client.disconnect();
  }
}

async function runs(file: string, args: string[]): Promise<string | undefined> {
  try {
    await exec(file, args, { timeout: 30_000 });
    return undefined;
  } catch (error) {
    return `\`${file} ${args.join(' ')}\` failed (${(error as Error).message.split('\n')[0]})`;
  }
}

export const PREREQUISITES = {
  testdata: {
    what: `the test photos in ${TESTDATA_DIR}`,
    provide: `put ${TESTDATA_FILES.join(', ')} there, or set VITRON_TESTDATA_DIR to a folder holding them`,
    async check() {
      const absent = TESTDATA_FILES.filter((name) => !existsSync(testdata(name)));
      return absent.length === 0 ? undefined : `${absent.join(', ')} not found`;
    },
  },
  redis: {
    what: `Redis at ${TEST_REDIS_URL}`,
    provide: 'start redis-server (apt-get install -y redis-server), or set TEST_REDIS_URL',
    check: redisAnswers,
  },
  postgres: {
    what: `PostgreSQL at ${TEST_DATABASE_URL}`,
    provide: 'start PostgreSQL with a database "test" (.ci/run shows how), or set TEST_DATABASE_URL',
    async check() {
      const { postgresUnavailable } = await import('../store/backends.ts');
      return (await postgresUnavailable()) ?? undefined;
    },
  },
  'postgres-server-binaries': {
    what: 'the PostgreSQL server binaries (initdb, pg_ctl)',
    provide: 'apt-get install -y postgresql, or put its bin directory on PATH (they are looked for on PATH and under /usr/lib/postgresql/*/bin)',
    async check() {
      const { POSTGRES_BIN } = await import('./postgres-instance.ts');
      return POSTGRES_BIN === undefined ? 'not found' : undefined;
    },
  },
  'redis-server': {
    what: 'the redis-server program',
    provide: 'apt-get install -y redis-server',
    check: () => runs('redis-server', ['--version']),
  },
  ffmpeg: {
    what: `ffmpeg and ffprobe at ${SYSTEM_FFMPEG.ffmpeg} and ${SYSTEM_FFMPEG.ffprobe}`,
    provide: 'apt-get install -y ffmpeg',
    async check() {
      return (await runs(SYSTEM_FFMPEG.ffmpeg, ['-version'])) ?? (await runs(SYSTEM_FFMPEG.ffprobe, ['-version']));
    },
  },
  chromium: {
    what: `Chromium at ${CHROMIUM}`,
    provide: 'apt-get install -y chromium',
    async check() {
      return existsSync(CHROMIUM) ? undefined : 'not found';
    },
  },
} satisfies Record<string, Prerequisite>;

export type PrerequisiteName = keyof typeof PREREQUISITES;

/** One missing prerequisite, in words: what, why, and how to provide it. */
export interface Missing {
  what: string;
  why: string;
  provide: string;
}

export function describeMissing(missing: readonly Missing[]): string {
  return missing.map((m) => `missing ${m.what} (${m.why}): ${m.provide}`).join('; ');
}

/** Thrown by a test whose prerequisite is missing in strict mode. */
export class PrerequisiteMissingError extends Error {
  override name = 'PrerequisiteMissingError';
}

/** Tests gated on prerequisites: `it` and `describe` that run, skip or fail depending on what is missing. */
export interface Gate {
  /** What is missing; empty when everything asked for is here. */
  readonly missing: readonly Missing[];
  /**
   * vitest's `it` (with .skipIf, .each, options…): runs the test when nothing is missing; otherwise skips it
   * with a note saying why, or in strict mode fails it with that message.
   */
  readonly it: TestAPI;
  /**
   * vitest's `describe` for a group that needs the prerequisites throughout (its hooks too): when something
   * is missing the group is skipped with the reason in its title, or in strict mode replaced by one failing
   * test naming what is missing (its hooks then never run into the missing thing).
   */
  describe(name: string, body: () => void): void;
}

/** The gate for `missing` (as detected by `requires`), strict or not: separate so its own test can drive it. */
export function gate(missing: readonly Missing[], strict: boolean): Gate {
  if (missing.length === 0) return { missing, it, describe: (name, body) => describe(name, body) };
  const message = describeMissing(missing);
  if (strict) {
    const fail = () => {
      throw new PrerequisiteMissingError(`${message} (VITRON_REQUIRE_PREREQUISITES is on: CI must run this test)`);
    };
    return {
      missing,
      // An automatic fixture runs before the test body, so the test fails with the message and its body never runs.
      it: it.extend<{ prerequisites: undefined }>({
        prerequisites: [
          // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from its first parameter's pattern.
          async ({}, _use) => fail(),
          { auto: true },
        ],
      }) as unknown as TestAPI,
      describe: (name) => describe(name, () => it(`has ${missing.map((m) => m.what).join(' and ')}`, fail)),
    };
  }
  console.warn(`[vitron-chat tests] skipping tests: ${message}`);
  return {
    missing,
    it: it.extend<{ prerequisites: undefined }>({
      prerequisites: [
        async ({ skip }, use) => {
          skip(message);
          await use(undefined);
        },
        { auto: true },
      ],
    }) as unknown as TestAPI,
    describe: (name, body) => describe.skip(`${name} (skipped: ${message})`, body),
  };
}

const checked = new Map<PrerequisiteName, Promise<string | undefined>>();

/** What of `names` is missing on this machine (each checked once per test file). */
export async function missingOf(...names: PrerequisiteName[]): Promise<Missing[]> {
  const reasons = await Promise.all(
    names.map((name) => {
      const known = checked.get(name);
      if (known) return known;
      const reason = PREREQUISITES[name].check();
      checked.set(name, reason);
      return reason;
    }),
  );
  return names.flatMap((name, i) => {
    const why = reasons[i];
    return why === undefined ? [] : [{ what: PREREQUISITES[name].what, why, provide: PREREQUISITES[name].provide }];
  });
}

/** `it` and `describe` for tests that need `names` (see Gate), in this process's mode (strictPrerequisites). */
export async function requires(...names: PrerequisiteName[]): Promise<Gate> {
  return gate(await missingOf(...names), strictPrerequisites());
}
