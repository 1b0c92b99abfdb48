/**
 * `npm run discord:register`: installs the slash and context-menu commands once, for a deployment that
 * sets DISCORD_REGISTER_COMMANDS=false (several bot processes, no need to re-register at each start).
 */
import 'dotenv/config';
import { REST } from 'discord.js';
import { loadSettings } from '../../src/config/settings.ts';
import { SettingsError } from '../../src/errors.ts';
import { commandRecordPath, registerCommands } from './commands.ts';

async function main(): Promise<void> {
  const settings = loadSettings();
  if (!settings.DISCORD_TOKEN || !settings.DISCORD_APPLICATION_ID) {
    throw new SettingsError('DISCORD_TOKEN and DISCORD_APPLICATION_ID', 'both set to register commands', 'at least one missing');
  }
  const rest = new REST(settings.DISCORD_API_URL ? { api: settings.DISCORD_API_URL } : {}).setToken(settings.DISCORD_TOKEN);
  const { count, cleared } = await registerCommands(rest, settings.DISCORD_APPLICATION_ID, settings.DISCORD_GUILD_ID, commandRecordPath(settings.DATA_DIR));
  const where = settings.DISCORD_GUILD_ID
    ? `server ${settings.DISCORD_GUILD_ID} only (guild commands are not offered in DMs with the bot)`
    : 'every server and DMs (global commands can take up to an hour to appear)';
  process.stdout.write(`Registered ${count} commands for ${where}.\n`);
  if (cleared.length > 0) process.stdout.write(`Removed the guild copy left by an earlier DISCORD_GUILD_ID in: ${cleared.join(', ')}.\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
