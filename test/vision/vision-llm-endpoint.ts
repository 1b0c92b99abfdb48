/**
 * Shared by the vision-llm-*.test.ts files: the model the fake OpenAI-compatible endpoint serves,
 * specialist contexts pointed at it, and readers of what it received. Each test file starts and closes
 * its own fake (useFakeEndpoint).
 */
import { promises as fs } from 'node:fs';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { type FakeVisionServer, startFakeVisionServer } from '../fakes/openai-vision/server.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { imageMedia, makeSpecialistContext, type TestContext } from '../helpers/specialist-context.ts';

export const MODEL = 'qwen2.5vl:3b';

/**
 * The calling file's own fake endpoint, handed to `started` once it listens, reset after each test so that no
 * mode, answer or request leaks into the next, and closed after the file.
 */
export function useFakeEndpoint(contexts: TestContext[], started: (server: FakeVisionServer) => void): void {
  let server: FakeVisionServer | undefined;
  beforeAll(async () => {
    server = await startFakeVisionServer({ models: [MODEL] });
    started(server);
  });
  afterAll(async () => {
    await server?.close();
  });
  afterEach(async () => {
    if (server) await resetAfterTest(server, contexts);
  });
}

/** A specialist context asking `server`, images sent at most 256 px a side; `contexts` collects it for cleanup. */
export async function endpointContext(server: FakeVisionServer, contexts: TestContext[], env: NodeJS.ProcessEnv = {}): Promise<TestContext> {
  const c = await makeSpecialistContext({
    env: { LLM_URL: server.url, LLM_MODEL: MODEL, LLM_MAX_IMAGE_SIDE: '256', ...env },
  });
  contexts.push(c);
  return c;
}

/** Back to plain descriptions with nothing seen, and every context of the test cleaned up. */
export async function resetAfterTest(server: FakeVisionServer, contexts: TestContext[]): Promise<void> {
  server.mode = 'describe';
  server.answer = undefined;
  server.requests.length = 0;
  await Promise.all(contexts.splice(0).map((c) => c.cleanup()));
}

export function chatRequestsOf(server: FakeVisionServer) {
  return server.requests.filter((r) => r.path === '/v1/chat/completions');
}

export async function photo(c: TestContext, name: string) {
  return imageMedia(c, await fs.readFile(testdata(name)), name);
}

export async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error('expected the call to fail');
  return outcome;
}
