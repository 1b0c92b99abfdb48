import { afterEach, describe, expect, it } from 'vitest';
import { ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { loadSettings } from '../../src/config/settings.ts';
import { discordEnv, startAdapter, startFakeStack } from './harness.ts';

type Stack = Awaited<ReturnType<typeof startFakeStack>>;

describe('Discord command registration (fake Discord keeps global and guild commands apart)', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it('declares guild install and the server and bot-DM contexts on the global commands, and none of them on a guild copy', async () => {
    stack = await startFakeStack({ DISCORD_GUILD_ID: '' });
    const { fake } = stack;
    expect(fake.commands.global.map((c) => c.name)).toEqual(['vitron', 'Edit with vitron']);
    for (const command of fake.commands.global) {
      expect(command.integration_types).toEqual([ApplicationIntegrationType.GuildInstall]);
      expect(command.contexts).toEqual([InteractionContextType.Guild, InteractionContextType.BotDM]);
    }
    await stack.adapter.close();
    stack.adapter = await startAdapter(stack.bot, loadSettings(discordEnv(fake, stack.dir)));
    const guildCopy = fake.commands.guilds.get(fake.guildId)!;
    expect(guildCopy.map((c) => c.name)).toEqual(['vitron', 'Edit with vitron']);
    for (const command of guildCopy) expect(command.contexts).toBeUndefined();
    for (const command of guildCopy) expect(command.integration_types).toBeUndefined();
  });

  it('removes the guild copy when DISCORD_GUILD_ID is dropped, so the server does not list /vitron twice', async () => {
    stack = await startFakeStack();
    const { fake } = stack;
    expect(fake.commands.guilds.get(fake.guildId)).toHaveLength(2);
    await stack.adapter.close();
    stack.adapter = await startAdapter(stack.bot, loadSettings(discordEnv(fake, stack.dir, { DISCORD_GUILD_ID: '' })));
    expect(fake.commands.global).toHaveLength(2);
    expect(fake.commands.guilds.get(fake.guildId)).toEqual([]);
    // Once cleared, a later start sends no more overwrites to that server.
    const clears = () => fake.calls.filter((c) => c.method === 'PUT' && c.path.includes('/guilds/')).length;
    const before = clears();
    await stack.adapter.close();
    stack.adapter = await startAdapter(stack.bot, loadSettings(discordEnv(fake, stack.dir, { DISCORD_GUILD_ID: '' })));
    expect(clears()).toBe(before);
  });

  it('clears a guild copy registered before the bot kept its record, in every server it is in', async () => {
    stack = await startFakeStack({ DISCORD_REGISTER_COMMANDS: 'false' });
    const { fake } = stack;
    fake.commands.guilds.set(fake.guildId, [{ id: '1', name: 'vitron', type: 1 }]);
    await stack.adapter.close();
    stack.adapter = await startAdapter(stack.bot, loadSettings(discordEnv(fake, stack.dir, { DISCORD_GUILD_ID: '' })));
    expect(fake.commands.guilds.get(fake.guildId)).toEqual([]);
    expect(fake.commands.global).toHaveLength(2);
  });
});
