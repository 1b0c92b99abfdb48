import { afterEach, describe, expect, it } from 'vitest';
import { decodeCustomId } from '../../adapters/discord/custom-id.ts';
import type { MediaView } from '../../src/app/bot-api.ts';
import { solidImage } from '../helpers/media-fixtures.ts';
import { customIds, isChannelPost, isOriginalEdit, startAdapter, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;
type Call = Stack['fake']['calls'][number];

const FLAGGED = { safety: { nsfw: 0.93, flagged: true } } satisfies Partial<MediaView>;
const content = (c: Call): string => c.body?.content ?? '';

/** `/vitron edit` with a picture, up to its "Queued" reply: the job the test then moves along by hand. */
async function queuedJob(stack: Stack, prompt: string) {
  const { fake, bot } = stack;
  const user = fake.user();
  const interaction = fake.interact(fake.slashCommand('edit', user, { prompt, attachment: fake.attachment(await solidImage(8, 8), 'a.png', 'image/png') }));
  await fake.waitFor(isOriginalEdit(interaction, (c) => /Queued/.test(content(c))));
  const turn = bot.calls.filter((c) => c.method === 'handleTurn').at(-1)!.args[0] as { conversationId: string };
  return { user, interaction, jobId: [...bot.jobs.keys()].at(-1)!, conversationId: turn.conversationId };
}

/** The custom_id of the button labelled `label` in a message payload. */
function buttonId(body: any, label: string): string {
  const found = (body.components ?? []).flatMap((row: any) => row.components).find((c: any) => c.label === label);
  if (!found) throw new Error(`no button "${label}"`);
  return found.custom_id;
}

function rowLabels(body: any): string[][] {
  return body.components.map((row: any) => row.components.map((c: any) => c.label ?? c.placeholder));
}

describe('Discord: a batch as one grid with U and V buttons (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('posts a batch of four as its grid alone, with U1..U4 and V1..V4 naming each exact picture and the seeds under it', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { user, interaction, jobId, conversationId } = await queuedJob(stack, 'draw a fox, 4 pictures');
    const { pictures, grid } = await bot.finishBatch(jobId, 4);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => /^Here are 4/.test(content(c))));

    expect(final.files.map((f) => f.name)).toEqual(['vitron-grid.png']);
    expect(final.body.content).toBe('Here are 4 of them.\n-# seeds 1: 101, 2: 102, 3: 103, 4: 104 · comfyui');
    expect(rowLabels(final.body)).toEqual([
      ['U1', 'U2', 'U3', 'U4'],
      ['V1', 'V2', 'V3', 'V4'],
      ['Undo', '🔄 Retry', 'Download grid'],
      ['Which one should I continue from?'],
    ]);
    const owner = { subject: conversationId, ownerId: user.id };
    expect(final.body.components[0].components.map((c: any) => decodeCustomId(c.custom_id))).toEqual(
      pictures.map((p) => ({ action: 'upscale', mediaId: p.id, ...owner })),
    );
    expect(final.body.components[1].components.map((c: any) => decodeCustomId(c.custom_id))).toEqual(
      pictures.map((p) => ({ action: 'vary', mediaId: p.id, ...owner })),
    );
    expect(decodeCustomId(buttonId(final.body, '🔄 Retry'))).toEqual({ action: 'retry', mediaId: grid.id, ...owner });
    expect(final.body.components[3].components[0].options.map((o: any) => o.value)).toEqual(pictures.map((p) => p.id));
    expect(customIds(final.body).every((id) => id.length <= 100)).toBe(true);
  });

  it('U2 upscales picture 2, V3 varies picture 3, and Retry repeats the whole batch by its grid', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { user, interaction, jobId, conversationId } = await queuedJob(stack, 'draw a fox, 4 pictures');
    const { pictures, grid } = await bot.finishBatch(jobId, 4);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => /^Here are 4/.test(content(c))));
    const messageId = fake.originalOf(interaction.token)!.id;
    const press = async (label: string) => {
      const pressed = fake.interact(fake.buttonPress(buttonId(final.body, label), messageId, user));
      return content(await fake.waitFor(isOriginalEdit(pressed)));
    };
    const lastAct = () => bot.calls.filter((c) => c.method === 'act').at(-1)!.args[0];
    const lastWords = () => (bot.calls.filter((c) => c.method === 'handleTurn').at(-1)!.args[0] as { text: string }).text;

    // The fake bot answers a turn without files in words; the real one would start a job.
    expect(await press('U2')).toBe('You said: upscale it');
    expect(lastAct()).toMatchObject({ conversationId, action: 'use', mediaId: pictures[1]!.id });
    expect(await press('V3')).toBe('You said: give me some variations');
    expect(lastAct()).toMatchObject({ conversationId, action: 'use', mediaId: pictures[2]!.id });
    expect(lastWords()).toBe('give me some variations');

    const turnsBefore = bot.calls.filter((c) => c.method === 'handleTurn').length;
    expect(await press('🔄 Retry')).toBe(`Repeating ${grid.id}.`);
    expect(bot.calls.filter((c) => c.method === 'repeat').map((c) => c.args[0])).toEqual([
      { conversationId, user: expect.objectContaining({ externalId: user.id }), mediaId: grid.id },
    ]);
    // Nothing is replayed as words: that would draw new seeds.
    expect(bot.calls.filter((c) => c.method === 'handleTurn')).toHaveLength(turnsBefore);
  });

  it("a grid's buttons still work after a restart: everything they need is in their custom id", async () => {
    stack = await startFakeStack();
    const { fake, bot, settings } = stack;
    const { user, interaction, jobId } = await queuedJob(stack, 'draw a fox, 4 pictures');
    const { pictures } = await bot.finishBatch(jobId, 4);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => /^Here are 4/.test(content(c))));
    await stack.adapter.close();
    stack.adapter = await startAdapter(bot, settings);

    const pressed = fake.interact(fake.buttonPress(buttonId(final.body, 'V2'), fake.originalOf(interaction.token)!.id, user));
    expect(content(await fake.waitFor(isOriginalEdit(pressed)))).toBe('You said: give me some variations');
    expect(bot.calls.filter((c) => c.method === 'act').at(-1)!.args[0]).toMatchObject({ action: 'use', mediaId: pictures[1]!.id });
  });

  it('shows the seed under a single generated picture, and its Retry repeats that exact picture', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { user, interaction, jobId, conversationId } = await queuedJob(stack, 'draw a red fox in the snow');
    const generation = { prompt: 'a red fox in the snow', seed: 123456, steps: 4, width: 8, height: 8, engine: 'comfyui', model: 'sd-turbo' };
    const fox = bot.addMedia(await solidImage(8, 8, '#cc3300'), 'image/png', 'result', { label: 'a red fox', generation });
    bot.finish(jobId, 'Here is your fox.', [fox]);
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    expect(final.body.content).toBe('Here is your fox.\n-# seed 123456 · comfyui');
    expect(final.body.attachments[0].description).toBe('a red fox · seed 123456 · comfyui');

    const pressed = fake.interact(fake.buttonPress(buttonId(final.body, 'Retry'), fake.originalOf(interaction.token)!.id, user));
    expect(content(await fake.waitFor(isOriginalEdit(pressed)))).toBe(`Repeating ${fox.id}.`);
    expect(bot.calls.find((c) => c.method === 'repeat')!.args[0]).toMatchObject({ conversationId, mediaId: fox.id });
  });

  it('one withheld picture withholds the grid that shows it: the others are posted alone, with no U/V buttons', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { interaction, jobId } = await queuedJob(stack, 'draw a fox, 4 pictures');
    const { pictures, grid } = await bot.finishBatch(jobId, 4, { picture: (i) => (i === 2 ? FLAGGED : {}) });
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => /^Here are 4/.test(content(c))));
    expect(final.files.map((f) => f.name)).toEqual(['vitron-result.png', 'vitron-result.png', 'vitron-result.png']);
    expect(final.body.content).toContain('This picture was flagged as NSFW by the safety filter');
    const targets = customIds(final.body).map((id) => decodeCustomId(id)!);
    expect(targets.some((t) => t.action === 'vary')).toBe(false);
    expect(targets.some((t) => t.mediaId === grid.id || t.mediaId === pictures[2]!.id)).toBe(false);
  });

  it('a withheld grid gets no buttons of its own', async () => {
    stack = await startFakeStack();
    const { fake, bot } = stack;
    const { interaction, jobId } = await queuedJob(stack, 'draw a fox, 2 pictures');
    const { grid } = await bot.finishBatch(jobId, 2, { grid: FLAGGED });
    const final = await fake.waitFor(isOriginalEdit(interaction, (c) => /^Here are 2/.test(content(c))));
    expect(final.files.map((f) => f.name)).not.toContain('vitron-grid.png');
    const targets = customIds(final.body).map((id) => decodeCustomId(id)!);
    expect(targets.some((t) => t.mediaId === grid.id || t.action === 'vary')).toBe(false);
  });
});

describe('Discord: previews while a picture is made (fake Discord, fake bot)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('attaches the newest preview at most once per preview interval, and the result replaces it', async () => {
    stack = await startFakeStack({}, { previewIntervalMs: 600_000 });
    const { fake, bot } = stack;
    const { interaction, jobId } = await queuedJob(stack, 'draw a red fox in the snow');
    const frames = await Promise.all([1, 2, 3, 4, 5].map((i) => solidImage(8, 8, `#0000${i}0`)));
    for (const step of [1, 2, 3]) bot.progressWithPreview(jobId, step, 5, frames[step - 1]!);
    const previewed = await fake.waitFor(isOriginalEdit(interaction, (c) => c.files.length > 0));
    expect(previewed.body.content).toMatch(/step 3\/5/);
    expect(previewed.files.map((f) => f.name)).toEqual(['vitron-preview.png']);
    expect(previewed.files[0]!.bytes.equals(frames[2]!)).toBe(true);

    // Inside the interval: the text moves on, the picture waits.
    for (const step of [4, 5]) bot.progressWithPreview(jobId, step, 5, frames[step - 1]!);
    await fake.waitFor(isOriginalEdit(interaction, (c) => /step 5\/5/.test(content(c))));
    bot.finish(jobId, 'Done.', [bot.addMedia(await solidImage(8, 8, '#cc3300'), 'image/png', 'result')]);
    await fake.waitFor(isOriginalEdit(interaction, (c) => /^Done\./.test(content(c))));
    await stack.adapter.close();

    const edits = fake.calls.filter(isOriginalEdit(interaction));
    expect(edits.filter((c) => c.files.length > 0).map((c) => c.files[0]!.name)).toEqual(['vitron-preview.png', 'vitron-result.png']);
    expect(content(edits.at(-1)!)).toBe('Done.');
    expect(fake.messages.get(fake.originalOf(interaction.token)!.id)!.attachments.map((a: any) => a.filename)).toEqual(['vitron-result.png']);
  });

  it('drops the preview from a status message when the result comes, even a result without a file, and never edits after it', async () => {
    stack = await startFakeStack({}, { previewIntervalMs: 0 });
    const { fake, bot } = stack;
    const message = fake.send(
      fake.userMessage(fake.user(), 'draw a red fox in the snow', {
        mention: true,
        attachments: [fake.attachment(await solidImage(8, 8), 'a.png', 'image/png')],
      }),
    );
    await fake.waitFor(isChannelPost(fake.channelId, (c) => c.body?.message_reference?.message_id === message.id));
    const status = [...fake.messages.values()].find((m) => m.message_reference?.message_id === message.id)!;
    const isStatusEdit = (c: Call) => c.method === 'PATCH' && c.path === `/channels/${fake.channelId}/messages/${status.id}`;
    const jobId = [...bot.jobs.keys()].at(-1)!;
    bot.progressWithPreview(jobId, 1, 4, await solidImage(8, 8, '#101010'));
    await fake.waitFor((c) => isStatusEdit(c) && c.files.length > 0);
    expect(fake.messages.get(status.id)!.attachments.map((a: any) => a.filename)).toEqual(['vitron-preview.png']);

    // A preview due right as the job ends: the result still goes last.
    bot.progressWithPreview(jobId, 2, 4, await solidImage(8, 8, '#202020'));
    bot.finish(jobId, 'Nothing to show this time.');
    await fake.waitFor((c) => isStatusEdit(c) && content(c) === 'Nothing to show this time.');
    await stack.adapter.close();
    expect(content(fake.calls.filter(isStatusEdit).at(-1)!)).toBe('Nothing to show this time.');
    expect(fake.messages.get(status.id)!.attachments).toEqual([]);
  });
});
