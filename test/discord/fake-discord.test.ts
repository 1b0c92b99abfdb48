import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client, GatewayIntentBits, Partials } from 'discord.js';
import { FakeDiscord } from '../fakes/discord/fake-discord.ts';

describe('fake Discord', () => {
  let fake: FakeDiscord;
  let client: Client;
  beforeEach(async () => {
    fake = await new FakeDiscord().start();
    client = new Client({ intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages], partials: [Partials.Channel], rest: { api: fake.apiUrl } });
  });
  afterEach(async () => {
    await client.destroy();
    await fake.close();
  });

  it('lets the real discord.js client log in, see its guild and resume after a dropped connection', async () => {
    const ready = new Promise<void>((resolve) => client.once('clientReady', () => resolve()));
    await client.login(fake.token);
    await ready;
    expect(client.user?.id).toBe(fake.botUser.id);
    expect(client.guilds.cache.get(fake.guildId)?.channels.cache.has(fake.channelId)).toBe(true);
    const resumed = new Promise<void>((resolve) => client.once('shardResume', () => resolve()));
    fake.dropConnections();
    await resumed;
    expect(fake.resumes).toBe(1);
    expect(fake.identifies).toBe(1);
  });
});
