import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect } from 'vitest';
import { describeOutcome } from '../../src/app/outcome-text.ts';
import { actionsFor } from '../../src/app/views.ts';
import { LocalBlobStore } from '../../src/media/blob-store.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { runJob } from '../../src/worker/job-runner.ts';
import type { FakeVisionServer } from '../fakes/openai-vision/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import type { TestContext } from '../helpers/specialist-context.ts';
import { useFakeEndpoint, chatRequestsOf, endpointContext, MODEL } from './vision-llm-endpoint.ts';
import { requires } from '../helpers/prerequisites.ts';

const photos = await requires('testdata');

let server: FakeVisionServer;
const contexts: TestContext[] = [];

useFakeEndpoint(contexts, (started) => {
  server = started;
});

const context = (env?: NodeJS.ProcessEnv) => endpointContext(server, contexts, env);
const chatRequests = () => chatRequestsOf(server);

describe('a text-only result, end to end through the job runner', () => {
  photos.it('stores no media and the bot shows the text alone, with no buttons', async () => {
    const c = await context();
    const blobDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-blobs-'));
    try {
      const blobs = new LocalBlobStore(blobDir);
      const png = await fs.readFile(testdata('chelsea.png'));
      const { sha256, bytes } = await blobs.put(png);
      server.answer = () => 'A tabby cat sitting by a window.';
      const outcome = await runJob(
        {
          jobId: 'job-text-only-1',
          conversationId: 'conv-1',
          steps: [
            {
              targets: [{ media: { id: 'm1', sha256, kind: 'image', mime: 'image/png', bytes, width: 451, height: 300 } }],
              invocation: { task: 'caption', targets: [], args: {} },
            },
          ],
        },
        { settings: c.settings, blobs, models: c.models, ffmpeg: c.ffmpeg, limits: c.limits, specialistFor: (t) => specialistFor(t)!, tmpRoot: c.tmpDir },
        { signal: new AbortController().signal, progress: () => {} },
      );
      expect(outcome.steps).toEqual([{ task: 'caption', media: [], text: 'A tabby cat sitting by a window.', boxes: undefined }]);
      expect(describeOutcome(outcome, [], () => 'unused')).toBe('A tabby cat sitting by a window.');
      expect(actionsFor([], false)).toEqual([]);
    } finally {
      await fs.rm(blobDir, { recursive: true, force: true });
    }
  });
});

describe('a caption through the whole bot', () => {
  photos.it('answers "what is in this picture?" with the endpoint\'s words and no picture', { timeout: 180_000 }, async () => {
    const harness = await startTestBot({ LLM_URL: server.url, LLM_MODEL: MODEL });
    try {
      const { bot } = harness.running;
      const user = testUser();
      const view = await bot.startConversation({ user, title: 'caption' });
      const events = new EventRecorder();
      bot.subscribe(view.id, events.listener);
      server.answer = (_body, images) => `A photo of a cat (${images[0]!.width}x${images[0]!.height}).`;
      const turn = await bot.handleTurn({
        conversationId: view.id,
        user,
        text: 'what is in this picture?',
        files: [{ name: 'cat.png', bytes: await fs.readFile(testdata('chelsea.png')) }],
      });
      const finished = await events.finished(turn);
      expect(finished.job.state).toBe('succeeded');
      // Default LLM_MAX_IMAGE_SIDE (1024) leaves the 451 × 300 photo as it is.
      expect(finished.turn.text).toBe('A photo of a cat (451x300).');
      expect(finished.turn.media).toEqual([]);
      expect(finished.turn.actions ?? []).toEqual([]);
    } finally {
      await harness.cleanup();
    }
  });
});

describe('endpoint jobs beside the inference thread', () => {
  photos.it('keeps edits moving while a slow endpoint thinks: the question never holds the only inference thread', { timeout: 180_000 }, async () => {
    // The server would answer only after ten minutes: had the question taken the one inference thread, the
    // edit could not finish before it, and this test would run out of time.
    const harness = await startTestBot({
      LLM_URL: server.url,
      LLM_MODEL: MODEL,
      WORKER_THREADS: '1',
      LLM_TIMEOUT_MS: '600000',
      JOB_TIMEOUT_SECONDS: '900',
    });
    const slowMs = server.slowMs;
    try {
      const { bot } = harness.running;
      server.mode = 'slow';
      server.slowMs = 600_000;
      const asker = testUser();
      const asking = await bot.startConversation({ user: asker, title: 'slow question' });
      const askerEvents = new EventRecorder();
      bot.subscribe(asking.id, askerEvents.listener);
      const question = await bot.handleTurn({
        conversationId: asking.id,
        user: asker,
        text: 'what is in this picture?',
        files: [{ name: 'cat.png', bytes: await fs.readFile(testdata('chelsea.png')) }],
      });
      expect(question.job).toBeDefined();
      await expect.poll(() => chatRequests().length, { timeout: 60_000 }).toBe(1);

      const editor = testUser();
      const editing = await bot.startConversation({ user: editor, title: 'edit meanwhile' });
      const editorEvents = new EventRecorder();
      bot.subscribe(editing.id, editorEvents.listener);
      const edit = await bot.handleTurn({
        conversationId: editing.id,
        user: editor,
        text: 'make it black and white',
        files: [{ name: 'horse.png', bytes: await fs.readFile(testdata('horse.png')) }],
      });
      const edited = await editorEvents.finished(edit);
      expect(edited.job.state).toBe('succeeded');
      // The question is still waiting on the server: it ran beside the edit, not in front of it.
      expect(askerEvents.events.some((e) => e.type === 'job.finished')).toBe(false);

      await bot.handleTurn({ conversationId: asking.id, user: asker, text: 'cancel', files: [] });
      expect((await askerEvents.finished(question)).job.state).toBe('cancelled');
    } finally {
      server.slowMs = slowMs;
      await harness.cleanup();
    }
  });
});
