import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BadInputError,
  JobCancelledError,
  VisionLlmBadResponseError,
  VisionLlmRejectedError,
  VisionLlmUnavailableError,
  deserializeError,
  serializeError,
} from '../../src/errors.ts';
import { captionSpecialist } from '../../src/vision/tasks/understand/caption-answer.ts';
import { type FakeVisionServer, startFakeVisionServer } from '../fakes/openai-vision/server.ts';
import { freePort } from '../helpers/free-port.ts';
import { invocation, type TestContext } from '../helpers/specialist-context.ts';
import { useFakeEndpoint, endpointContext, failure, MODEL, photo } from './vision-llm-endpoint.ts';

let server: FakeVisionServer;
const contexts: TestContext[] = [];

useFakeEndpoint(contexts, (started) => {
  server = started;
});

const context = (env?: NodeJS.ProcessEnv) => endpointContext(server, contexts, env);

describe('vision endpoint failures are typed', () => {
  it('a 500 is a retryable VisionLlmUnavailableError, not bad input', async () => {
    const c = await context();
    server.mode = 'error-500';
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).not.toBeInstanceOf(BadInputError);
    expect(error).toMatchObject({ code: 'LLM_UNAVAILABLE', retryable: true, details: { status: 500 } });
    expect(error.message).toContain('HTTP 500: llama runner process has terminated');
  });

  it('an endpoint slower than LLM_TIMEOUT_MS is a retryable timeout, and the request is dropped', async () => {
    const c = await context({ LLM_TIMEOUT_MS: '1000' });
    server.mode = 'slow';
    const closed = server.nextClosedEarly();
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toContain('did not answer within 1 s');
    expect(error.message).toContain('LLM_TIMEOUT_MS');
    expect((await closed).path).toBe('/v1/chat/completions');
  });

  it('an endpoint nobody listens on is retryable and says it is not reachable', async () => {
    const c = await context({ LLM_URL: `http://127.0.0.1:${await freePort()}/v1` });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmUnavailableError);
    expect(error).toMatchObject({ retryable: true });
    expect(error.message).toBe('The model server is not reachable (ECONNREFUSED); try again in a moment.');
  });

  it('an unknown model (404) is not retried, names LLM_MODEL and the models the server has', async () => {
    const c = await context({ LLM_MODEL: 'llava-missing' });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmRejectedError);
    expect(error).toMatchObject({ code: 'LLM_REJECTED', retryable: false, details: { status: 404 } });
    expect(error.message).toContain('does not serve the model "llava-missing"');
    expect(error.message).toContain('model "llava-missing" not found, try pulling it first');
    expect(error.message).toContain(`set LLM_MODEL to one it serves (${MODEL})`);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['POST /v1/chat/completions', 'GET /v1/models']);
  });

  it.each([
    ['malformed-json', /not JSON \("\{\\"id\\":\\"chatcmpl-1\\"/],
    ['wrong-shape', /not an OpenAI chat completion \(problem at choices\)/],
    ['empty', /returned an empty answer/],
  ] as const)('a %s answer is a VisionLlmBadResponseError', async (mode, message) => {
    const c = await context();
    server.mode = mode;
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmBadResponseError);
    expect(error).toMatchObject({ code: 'LLM_BAD_RESPONSE', retryable: false });
    expect(error.message).toMatch(message);
  });

  it('keep their meaning across the worker-thread boundary: transient stays retryable, a set-up fault is no user error', () => {
    const across = (e: Error) => deserializeError(serializeError(e));
    const busy = across(new VisionLlmUnavailableError('busy', { status: 503 }));
    expect(busy).toMatchObject({ code: 'LLM_UNAVAILABLE', retryable: true });
    const rejected = across(new VisionLlmRejectedError('unknown model; set LLM_MODEL', 404));
    expect(rejected).toMatchObject({ code: 'LLM_REJECTED', retryable: false, message: 'unknown model; set LLM_MODEL' });
    expect(rejected).not.toBeInstanceOf(BadInputError);
    expect(across(new VisionLlmBadResponseError('not JSON'))).not.toBeInstanceOf(BadInputError);
  });

  it('cancelling the job stops the request at once', async () => {
    const c = await context();
    server.mode = 'slow';
    const arrived = server.nextChatRequest();
    const closed = server.nextClosedEarly();
    const running = failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    await arrived;
    c.abort();
    expect(await running).toBeInstanceOf(JobCancelledError);
    expect((await closed).closedEarly).toBe(true);
  });
});

describe('the API key', () => {
  const KEY = 'sk-test-7f3a9c41e2b8';
  let keyed: FakeVisionServer;
  beforeAll(async () => {
    keyed = await startFakeVisionServer({ models: [MODEL], apiKey: KEY });
  });
  afterAll(async () => {
    await keyed.close();
  });

  it('is sent as a Bearer token, and only in the Authorization header', async () => {
    const c = await context({ LLM_URL: keyed.url, LLM_API_KEY: KEY });
    const result = await captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c);
    expect(result.text).toMatch(/^image 1: /);
    const request = keyed.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(JSON.stringify(request.body)).not.toContain(KEY);
  });

  it('never appears in an error, even when the server quotes it back', async () => {
    const wrong = 'sk-wrong-0b9d77aa31c5';
    const c = await context({ LLM_URL: keyed.url, LLM_API_KEY: wrong });
    const error = await failure(captionSpecialist.run(invocation('caption', await photo(c, 'horse.png')), c));
    expect(error).toBeInstanceOf(VisionLlmRejectedError);
    expect(error).toMatchObject({ retryable: false, details: { status: 401 } });
    expect(error.message).toContain('LLM_API_KEY');
    expect(error.message).toContain('Incorrect API key provided: Bearer [key]');
    expect(JSON.stringify(error)).not.toContain(wrong);
    expect(String(error.stack)).not.toContain(wrong);
  });
});
