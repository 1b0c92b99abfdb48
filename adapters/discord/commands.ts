import fs from 'node:fs/promises';
import path from 'node:path';
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  Routes,
  type REST,
  type RESTGetAPICurrentUserGuildsResult,
  type RESTPutAPIApplicationCommandsJSONBody,
  type RESTPutAPIApplicationGuildCommandsJSONBody,
} from 'discord.js';

export const COMMAND_NAME = 'vitron';
export const CONTEXT_MENU_NAME = 'Edit with vitron';
export const SUBCOMMANDS = ['edit', 'help', 'undo', 'history', 'cancel', 'settings'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

const contexts = [InteractionContextType.Guild, InteractionContextType.BotDM];
/**
 * Guild install only: a user-installed copy would offer /vitron in servers the bot is not in, where it
 * can neither open threads nor post a late result. An operator who wants user install adds
 * ApplicationIntegrationType.UserInstall here and enables it in the Developer Portal (docs/discord.md).
 */
const integration_types = [ApplicationIntegrationType.GuildInstall];

/**
 * Discord does not allow options next to sub-commands, so the prompt lives under `/vitron edit`; the
 * other sub-commands take nothing.
 */
export const GUILD_COMMANDS: RESTPutAPIApplicationGuildCommandsJSONBody = [
  {
    name: COMMAND_NAME,
    description: 'Understand and edit images and videos',
    type: ApplicationCommandType.ChatInput,
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'edit',
        description: 'Ask for an edit or a question about an image or video',
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'prompt',
            description: 'What to do, e.g. "remove the background"',
            required: true,
            max_length: 1500,
          },
          { type: ApplicationCommandOptionType.Attachment, name: 'attachment', description: 'An image or a video', required: false },
        ],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'help', description: 'What the bot can do' },
      { type: ApplicationCommandOptionType.Subcommand, name: 'undo', description: 'Undo the last edit in this conversation' },
      { type: ApplicationCommandOptionType.Subcommand, name: 'history', description: 'The turns of this conversation' },
      { type: ApplicationCommandOptionType.Subcommand, name: 'cancel', description: 'Cancel your running jobs' },
      { type: ApplicationCommandOptionType.Subcommand, name: 'settings', description: 'Where and how much this bot may be used' },
    ],
  },
  { name: CONTEXT_MENU_NAME, type: ApplicationCommandType.Message },
];

/** Guild commands (above) take neither `contexts` nor `integration_types`: they exist in that one server only, never in DMs. */
export const COMMANDS: RESTPutAPIApplicationCommandsJSONBody = GUILD_COMMANDS.map((command) => ({ ...command, integration_types, contexts }));

export interface Registration {
  count: number;
  /** Servers whose leftover guild copy of the commands was removed. */
  cleared: string[];
}

/**
 * Guild-scoped commands appear at once (handy while setting up) but only in that server; global ones
 * everywhere the app is installed, DMs included. Registering globally removes the guild copies left by
 * an earlier DISCORD_GUILD_ID, else that server lists every command twice. `recordPath` remembers which
 * servers got a guild copy; without it (a deployment older than the record) every server the bot is in
 * is cleared, once.
 */
export async function registerCommands(rest: REST, applicationId: string, guildId: string | undefined, recordPath: string): Promise<Registration> {
  const recorded = await readRecord(recordPath);
  if (guildId) {
    const created = (await rest.put(Routes.applicationGuildCommands(applicationId, guildId), { body: GUILD_COMMANDS })) as unknown[];
    await writeRecord(recordPath, [...new Set([...(recorded ?? []), guildId])]);
    return { count: created.length, cleared: [] };
  }
  const created = (await rest.put(Routes.applicationCommands(applicationId), { body: COMMANDS })) as unknown[];
  const stale = recorded ?? ((await rest.get(Routes.userGuilds())) as RESTGetAPICurrentUserGuildsResult).map((g) => g.id);
  const cleared: string[] = [];
  const failed: string[] = [];
  for (const id of stale) {
    // An empty bulk overwrite deletes every command of this application in that server. A server that
    // refuses (the bot was removed meanwhile) stays in the record and is tried again at the next start.
    await rest.put(Routes.applicationGuildCommands(applicationId, id), { body: [] }).then(
      () => cleared.push(id),
      () => failed.push(id),
    );
  }
  await writeRecord(recordPath, failed);
  return { count: created.length, cleared };
}

/** Where the adapter and `npm run discord:register` keep the servers holding a guild copy. */
export function commandRecordPath(dataDir: string): string {
  return path.join(dataDir, 'discord', 'command-guilds.json');
}

async function readRecord(file: string): Promise<string[] | undefined> {
  try {
    const parsed: unknown = JSON.parse(await fs.readFile(file, 'utf8'));
    return Array.isArray(parsed) ? parsed.filter((id): id is string => typeof id === 'string') : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeRecord(file: string, guilds: string[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(guilds)}\n`);
}
