import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  InteractionContextType,
  Routes,
  type REST,
  type RESTPutAPIApplicationCommandsJSONBody,
} from 'discord.js';

export const COMMAND_NAME = 'vitron';
export const CONTEXT_MENU_NAME = 'Edit with vitron';
export const SUBCOMMANDS = ['edit', 'help', 'undo', 'history', 'cancel', 'settings'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

const contexts = [InteractionContextType.Guild, InteractionContextType.BotDM];

/**
 * Discord does not allow options next to sub-commands, so the prompt lives under `/vitron edit`; the
 * other sub-commands take nothing.
 */
export const COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    name: COMMAND_NAME,
    description: 'Understand and edit images and videos',
    type: ApplicationCommandType.ChatInput,
    contexts,
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
  { name: CONTEXT_MENU_NAME, type: ApplicationCommandType.Message, contexts },
];

/** Guild-scoped commands appear at once (handy while setting up); global ones everywhere the app is installed. */
export async function registerCommands(rest: REST, applicationId: string, guildId?: string): Promise<number> {
  const route = guildId ? Routes.applicationGuildCommands(applicationId, guildId) : Routes.applicationCommands(applicationId);
  const created = (await rest.put(route, { body: COMMANDS })) as unknown[];
  return created.length;
}
