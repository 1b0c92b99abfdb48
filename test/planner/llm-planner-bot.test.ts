import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bot } from '../../src/app/bot.ts';
import { startFakeVisionServer, type FakeVisionServer } from '../fakes/openai-vision/server.ts';
import { EventRecorder, startTestBot, testUser } from '../helpers/bot-harness.ts';
import { testdata } from '../helpers/media-fixtures.ts';
import { requires } from '../helpers/prerequisites.ts';

/** A real bot with LLM_URL set: every turn is planned by the (scripted) LLM, with the conversation as it really is. */

const photos = await requires('testdata');
const MODEL = 'qwen2.5vl:3b';
let fake: FakeVisionServer;
let harness: Awaited<ReturnType<typeof startTestBot>>;
let bot: Bot;

beforeAll(async () => {
  fake = await startFakeVisionServer({ models: [MODEL] });
  harness = await startTestBot({ LLM_URL: fake.url, LLM_MODEL: MODEL, SAFETY: 'off' });
  bot = harness.running.bot;
});
afterAll(async () => {
  await harness?.cleanup();
  await fake?.close();
});

const planRequests = () => fake.requests.filter((r) => r.body?.response_format !== undefined);
const dataOf = (request: { body: { messages: { content: { text?: string }[] }[] } }) => JSON.parse(request.body.messages[1]!.content[0]!.text!.split('\n')[1]!);

describe('a bot planned by the LLM', () => {
  photos.it('runs the plan the LLM gives for an upload, then plans the next turn with the lineage it made', async () => {
    const user = testUser();
    const { id } = await bot.startConversation({ user, title: 'llm' });
    const events = new EventRecorder();
    bot.subscribe(id, events.listener);
    fake.plans.push(JSON.stringify({ reply: null, invocations: [{ task: 'cutout', targets: ['upload'], args: { phrase: 'the horse' } }] }));
    const first = await bot.handleTurn({
      conversationId: id,
      user,
      text: 'cut out the horse',
      files: [{ name: 'horse.png', bytes: await fs.readFile(testdata('horse.png')) }],
    });
    const cut = await events.finished(first);
    expect(cut.job.state).toBe('succeeded');
    const [request] = planRequests();
    const firstData = dataOf(request!);
    expect(firstData.attached_to_this_message).toEqual(['image']);
    expect(firstData.references_you_may_use).toEqual(['current', 'image:last', 'upload']);
    // Only tasks this machine can run: nothing that needs a pulled model.
    const schema = JSON.stringify(request!.body.response_format.json_schema.schema);
    expect(schema).toContain('"enum":["cutout"]');
    expect(schema).not.toContain('"enum":["segment_at"]');
    // The picture the turn is about travelled along.
    expect(request!.body.messages[1].content.some((p: { type: string }) => p.type === 'image_url')).toBe(true);

    fake.plans.push(JSON.stringify({ reply: null, invocations: [{ task: 'adjust', targets: ['current'], args: { grayscale: true } }] }));
    const second = await bot.handleTurn({ conversationId: id, user, text: 'now black and white', files: [] });
    expect((await events.finished(second)).job.state).toBe('succeeded');
    const secondData = dataOf(planRequests()[1]!);
    expect(secondData.media).toEqual([
      expect.objectContaining({ ref: 'image:1', role: 'upload', current: false }),
      expect.objectContaining({ ref: 'image:2', role: 'result', madeFrom: 'image:1', current: true }),
    ]);
    expect(secondData.earlier_messages.map((t: { from: string }) => t.from)).toEqual(['user', 'bot']);
    expect(secondData.last_invocations).toEqual([{ task: 'cutout', targets: ['upload'], args: { phrase: 'the horse' } }]);
  });

  it('answers a question in the LLM’s words, queueing nothing; an unusable answer falls back to the rule-based plan', async () => {
    const user = testUser();
    const { id } = await bot.startConversation({ user, title: 'talk' });
    fake.plans.push(JSON.stringify({ reply: 'Send me a picture and I can cut it out, read it or edit it.', invocations: [] }));
    const talk = await bot.handleTurn({ conversationId: id, user, text: 'what can you do?', files: [] });
    expect(talk.job).toBeUndefined();
    expect(talk.botTurn?.text).toBe('Send me a picture and I can cut it out, read it or edit it.');

    fake.plans.push('I would love to help!', '{"invocations": [{"task": "format_disk"}]}');
    const fallback = await bot.handleTurn({ conversationId: id, user, text: 'help', files: [] });
    expect(fallback.job).toBeUndefined();
    expect(fallback.botTurn?.text).toBe(bot.helpText());
  });
});
