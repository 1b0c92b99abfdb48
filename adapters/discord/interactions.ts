import {
  ActionRowBuilder,
  ChannelType,
  MessageFlags,
  ModalBuilder,
  TextInputBuilder,
  TextInputStyle,
  type ChatInputCommandInteraction,
  type Interaction,
  type MessageContextMenuCommandInteraction,
  type ModalSubmitInteraction,
  type RepliableInteraction,
} from 'discord.js';
import type { IncomingFile, TurnResult, UserRef } from '../../src/app/bot-api.ts';
import { originOf, overLimit, refusal } from './access.ts';
import { userRef, type DiscordContext } from './context.ts';
import { explain } from './explain.ts';
import { DEFAULT_UPLOAD_LIMIT, fetchAttachment } from './media.ts';
import type { MenuAttachment } from './menu-targets.ts';
import { clip, renderTurn } from './render.ts';
import { discordGate } from './nsfw.ts';
import { scopeKey, type DiscordScope } from './scope.ts';
import { cancelAll, findConversation, historyText, settingsText } from './subcommands.ts';

/** Prefix of the context menu's modal ids: `vt1m:<channel>:<message>`. */
export const MODAL_PREFIX = 'vt1m:';

/** A user who got "thinking…" must not be left with it: the reason replaces it when Discord still lets us. */
export function interactionFailed(context: DiscordContext, interaction: Interaction, error: unknown): void {
  const text = `⚠️ ${explain(context, error)}`;
  if (interaction.isRepliable())
    void refuse(interaction, text).catch((failure: unknown) => context.logger.warn({ err: failure }, 'could not report a failed interaction'));
}

/** An answer only the user sees: ephemeral, or the deferred reply edited once it was acknowledged. */
export async function refuse(interaction: RepliableInteraction, text: string): Promise<void> {
  if (interaction.deferred || interaction.replied) await interaction.editReply({ content: clip(text), components: [], files: [] });
  else await interaction.reply({ content: clip(text), flags: MessageFlags.Ephemeral });
}

/** A refusal after a public "thinking…": that reply goes, and the reason is shown to the user alone. */
async function refuseAfterPublicDefer(interaction: ChatInputCommandInteraction, text: string): Promise<void> {
  if (interaction.ephemeral) return refuse(interaction, text);
  await interaction.deleteReply();
  await interaction.followUp({ content: clip(text), flags: MessageFlags.Ephemeral });
}

export async function onSlash(context: DiscordContext, interaction: ChatInputCommandInteraction): Promise<void> {
  const { bot, settings } = context;
  const denied = refusal(settings, originOf(interaction));
  if (denied) return refuse(interaction, denied);
  const sub = interaction.options.getSubcommand();
  const user = userRef(interaction.user);
  if (sub === 'help') return refuse(interaction, bot.helpText());
  if (sub === 'settings') return refuse(interaction, settingsText(settings, interaction.attachmentSizeLimit));
  if (sub === 'cancel') return refuse(interaction, await cancelAll(context, user));
  if (sub === 'undo' || sub === 'history') {
    // Acknowledged first: finding the conversation lists them and may fetch up to ten threads, longer than
    // Discord's 3 s. History answers only the user; undo's result belongs to the conversation, so it is public.
    await interaction.deferReply(sub === 'history' ? { flags: MessageFlags.Ephemeral } : {});
    const conversation = await findConversation(context, interaction, user);
    if (!conversation) return refuseAfterPublicDefer(interaction, 'There is no conversation with you here yet; start one with `/vitron edit`.');
    if (sub === 'history') return refuse(interaction, await historyText(bot, conversation.id));
    const result = await bot.act({ conversationId: conversation.id, user, action: 'undo' });
    return answerInteraction(context, interaction, result, conversation.id, user.externalId);
  }
  const prompt = interaction.options.getString('prompt', true);
  const attachment = interaction.options.getAttachment('attachment');
  return startFromInteraction(context, interaction, user, prompt, attachment ? [attachment] : []);
}

/**
 * The shared path of `/vitron edit` and the context menu: admit, acknowledge within Discord's 3 s,
 * fetch the attachments, find or open the conversation (a thread when the channel allows), run the turn.
 */
async function startFromInteraction(
  context: DiscordContext,
  interaction: ChatInputCommandInteraction | ModalSubmitInteraction,
  user: UserRef,
  prompt: string,
  attachments: { url: string; name: string; size: number; contentType: string | null }[],
): Promise<void> {
  const { bot } = context;
  const busy = await overLimit(bot, user, interaction.guildId);
  if (busy) return refuse(interaction, busy);
  await interaction.deferReply();
  const uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
  let files: IncomingFile[];
  try {
    files = await Promise.all(attachments.map((a) => fetchAttachment({ url: a.url, name: a.name, size: a.size, contentType: a.contentType }, context.intake)));
  } catch (error) {
    return refuse(interaction, `⚠️ ${explain(context, error)}`);
  }
  const scope = await scopeForInteraction(context, interaction, prompt);
  const conversation = await bot.startConversation({ user, platform: 'discord', externalId: scopeKey(scope), title: clip(prompt, 80) });
  await context.deliveries.duringTurn(conversation.id, async () => {
    // Keyed by the interaction: a gateway replay of it after a resume records and runs nothing again.
    const result = await bot.handleTurn({ conversationId: conversation.id, user, text: prompt, files, eventKey: `discord:interaction:${interaction.id}` });
    if (result.duplicate) return;
    await answerInteraction(context, interaction, result, conversation.id, user.externalId, uploadLimit, scope.channelId);
  });
}

async function scopeForInteraction(context: DiscordContext, interaction: RepliableInteraction, prompt: string): Promise<DiscordScope> {
  const channel = interaction.channel;
  if (!interaction.inGuild()) return { kind: 'dm', channelId: interaction.channelId ?? '' };
  if (channel?.isThread() && channel.ownerId === context.client.user?.id) return { kind: 'thread', channelId: channel.id };
  const reply = await interaction.fetchReply();
  if (channel?.type === ChannelType.GuildText) {
    try {
      const thread = await reply.startThread({ name: clip(prompt, 90) || 'vitron', autoArchiveDuration: 1440 });
      return { kind: 'thread', channelId: thread.id };
    } catch (error) {
      // Missing Create Public Threads permission or a channel that forbids them: the reply chain is the scope.
      context.logger.info({ err: error, channel: channel.id }, 'could not open a thread; using the reply chain');
    }
  }
  return { kind: 'chain', channelId: interaction.channelId ?? '', rootMessageId: reply.id };
}

/** Shows an immediate answer, or registers the job so that progress and the result edit this reply. */
export async function answerInteraction(
  context: DiscordContext,
  interaction: RepliableInteraction,
  result: TurnResult,
  conversationId: string,
  ownerId: string,
  uploadLimit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT,
  conversationChannelId = interaction.channelId ?? '',
): Promise<void> {
  if (result.job) return context.deliveries.followInteraction(interaction, result.job, ownerId, uploadLimit, conversationChannelId);
  if (result.botTurn) {
    const rendered = await renderTurn(context.bot, result.botTurn, {
      conversationId,
      ownerId,
      uploadLimit,
      publicUrl: context.settings.PUBLIC_URL,
      video: context.video,
      gate: await discordGate(context, interaction.channelId ?? '', conversationId),
    });
    await interaction.editReply(rendered);
  } else {
    await interaction.editReply({ content: 'OK.' });
  }
}

export async function onContextMenu(context: DiscordContext, interaction: MessageContextMenuCommandInteraction): Promise<void> {
  const denied = refusal(context.settings, originOf(interaction));
  if (denied) return refuse(interaction, denied);
  const target = interaction.targetMessage;
  const media = mediaAttachments(target.attachments.values());
  if (media.length === 0) return refuse(interaction, 'That message has no image or video to edit.');
  context.menuTargets.remember(
    interaction.user.id,
    target.channelId,
    target.id,
    media.map((a) => ({ url: a.url, name: a.name, size: a.size, contentType: a.contentType })),
  );
  const modal = new ModalBuilder()
    .setCustomId(`${MODAL_PREFIX}${target.channelId}:${target.id}`)
    .setTitle('Edit with vitron')
    .addComponents(
      new ActionRowBuilder<TextInputBuilder>().addComponents(
        new TextInputBuilder().setCustomId('prompt').setLabel('What should I do with it?').setStyle(TextInputStyle.Short).setMaxLength(1500).setRequired(true),
      ),
    );
  await interaction.showModal(modal);
}

export async function onModal(context: DiscordContext, interaction: ModalSubmitInteraction): Promise<void> {
  const [, channelId, messageId] = interaction.customId.split(':');
  const prompt = interaction.fields.getTextInputValue('prompt');
  if (!channelId || !messageId) return refuse(interaction, 'That pop-up is not one of mine; use **Edit with vitron** again.');
  const attachments = context.menuTargets.take(interaction.user.id, channelId, messageId) ?? (await refetchAttachments(context, channelId, messageId));
  if (!attachments) return refuse(interaction, 'I cannot see that message any more; use **Edit with vitron** on it again.');
  return startFromInteraction(context, interaction, userRef(interaction.user), prompt, attachments);
}

/** A pop-up opened before a restart: the message is read again, which works only where the bot may read it. */
async function refetchAttachments(context: DiscordContext, channelId: string, messageId: string): Promise<MenuAttachment[] | undefined> {
  const channel = await context.client.channels.fetch(channelId).catch(() => null);
  const message = channel && 'messages' in channel ? await channel.messages.fetch(messageId).catch(() => null) : null;
  return message ? mediaAttachments(message.attachments.values()) : undefined;
}

function mediaAttachments<T extends { contentType: string | null }>(attachments: Iterable<T>): T[] {
  return [...attachments].filter((a) => a.contentType?.startsWith('image/') || a.contentType?.startsWith('video/'));
}
