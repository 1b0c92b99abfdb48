import { AttachmentBuilder, MessageFlags, PermissionFlagsBits, type ButtonInteraction, type StringSelectMenuInteraction } from 'discord.js';
import type { TurnResult } from '../../src/app/bot-api.ts';
import { formatBytes } from '../../src/media/limits.ts';
import { originOf, overLimit, refusal } from './access.ts';
import { userRef, type DiscordContext } from './context.ts';
import { explain } from './explain.ts';
import type { ComponentTarget } from './custom-id.ts';
import { answerInteraction, refuse } from './interactions.ts';
import { DEFAULT_UPLOAD_LIMIT, fileName } from './media.ts';
import { discordGate } from './nsfw.ts';
import { parseScope } from './scope.ts';

/** The words a button says for the user on the picture it names; the planner plans them like typed ones. */
const TURN_WORDS = { upscale: 'upscale it', cutout: 'cut it out', animate: 'animate it', vary: 'give me some variations' } as const;

/**
 * A button or menu under a bot message. Only the author of the job or result, or a member with Manage
 * Messages, may use it; buttons that run a turn are admitted by the core's limits like a new request.
 */
export async function onComponent(
  context: DiscordContext,
  interaction: ButtonInteraction | StringSelectMenuInteraction,
  target: ComponentTarget,
): Promise<void> {
  const { bot } = context;
  const denied = refusal(context.settings, originOf(interaction));
  if (denied) return refuse(interaction, denied);
  const owner = interaction.user.id === target.ownerId || interaction.memberPermissions?.has(PermissionFlagsBits.ManageMessages) === true;
  if (!owner) return refuse(interaction, `Only <@${target.ownerId}> (or a member with Manage Messages) can use these buttons.`);
  const user = userRef(interaction.user);
  try {
    if (target.action === 'cancel') {
      const job = await bot.cancelJob(target.subject, user);
      return refuse(interaction, job.state === 'cancelled' ? 'Cancelled.' : `That job has already ${job.state}.`);
    }
    const conversationId = target.subject;
    await bot.getConversation(conversationId);
    if (target.action === 'download') return sendOriginal(context, interaction, target.mediaId, conversationId);
    if (target.action === 'pick') {
      const picked = interaction.isStringSelectMenu() ? interaction.values[0] : undefined;
      if (!picked) return refuse(interaction, 'Pick one of the images.');
      const result = await bot.act({ conversationId, user, action: 'use', mediaId: picked });
      return refuse(interaction, result.botTurn?.text ?? 'OK: the next edit starts from that one.');
    }
    if (target.action === 'undo' || target.action === 'redo') {
      await interaction.deferReply();
      const result = await bot.act({ conversationId, user, action: target.action });
      return answerInteraction(context, interaction, result, conversationId, target.ownerId);
    }
    const busy = await overLimit(bot, user, interaction.guildId);
    if (busy) return refuse(interaction, busy);
    await interaction.deferReply();
    const conversation = await bot.getConversation(conversationId);
    const channelId = parseScope(conversation.externalId)?.channelId;
    if (target.action === 'choose') {
      // The number is the answer, word for word: the planner turns it into the asked invocation with `pick`.
      await context.deliveries.duringTurn(conversationId, async () => {
        const result = await bot.handleTurn({ conversationId, user, text: target.mediaId, files: [] });
        await answerInteraction(context, interaction, result, conversationId, target.ownerId, undefined, channelId);
      });
      return;
    }
    const { action, mediaId } = target;
    await context.deliveries.duringTurn(conversationId, async () => {
      // Retry is the core's repeat: what made this exact media, on the same input with the same seed (a
      // grid's Retry the whole batch, one picture's alone). Replaying the words would draw a new seed.
      let result: TurnResult;
      if (action === 'retry' || action === 'longer')
        result = await bot.repeat({ conversationId, user, mediaId, ...(action === 'longer' ? { longer: true } : {}) });
      else {
        await bot.act({ conversationId, user, action: 'use', mediaId });
        result = await bot.handleTurn({ conversationId, user, text: TURN_WORDS[action], files: [] });
      }
      await answerInteraction(context, interaction, result, conversationId, target.ownerId, undefined, channelId);
    });
  } catch (error) {
    return refuse(interaction, `⚠️ ${explain(context, error)}`);
  }
}

async function sendOriginal(
  context: DiscordContext,
  interaction: ButtonInteraction | StringSelectMenuInteraction,
  mediaId: string,
  conversationId: string,
): Promise<void> {
  await interaction.deferReply({ flags: MessageFlags.Ephemeral });
  const { view, path: file } = await context.bot.media(mediaId);
  // Safety: "Download original" is posting too; a withheld picture stays withheld through its button.
  const withheld = (await discordGate(context, interaction.channelId ?? '', conversationId))(view);
  if (withheld) {
    await interaction.editReply({ content: withheld });
    return;
  }
  const limit = interaction.attachmentSizeLimit ?? DEFAULT_UPLOAD_LIMIT;
  if (view.bytes <= limit) {
    await interaction.editReply({ files: [new AttachmentBuilder(file, { name: fileName(view) })] });
    return;
  }
  const link = context.settings.PUBLIC_URL ? new URL(context.bot.mediaLink(view.id), context.settings.PUBLIC_URL).href : undefined;
  await interaction.editReply({
    content: link
      ? `The original (${formatBytes(view.bytes)}) is over Discord's upload limit: ${link}`
      : `The original is ${formatBytes(view.bytes)}, over Discord's ${formatBytes(limit)} upload limit.`,
  });
}
