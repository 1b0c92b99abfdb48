import type { Message } from 'discord.js';
import type { IncomingFile, JobView } from '../../src/app/bot-api.ts';
import { originOf, overLimit, refusal } from './access.ts';
import { userRef, type DiscordContext } from './context.ts';
import { explain } from './explain.ts';
import { decodeCustomId, type ComponentTarget } from './custom-id.ts';
import { DEFAULT_UPLOAD_LIMIT, fetchAttachment } from './media.ts';
import { cancelRow, clip, progressText, renderTurn } from './render.ts';
import { discordGate } from './nsfw.ts';
import { scopeKey, type DiscordScope } from './scope.ts';

/**
 * A message the bot should answer: any DM, any message in a thread the bot opened, a mention, or a reply
 * to one of the bot's messages (which continues from that exact result).
 */
export async function onMessage(context: DiscordContext, message: Message): Promise<void> {
  const { bot, client } = context;
  if (message.author.bot || message.system) return;
  const botId = client.user?.id;
  if (!botId) return;
  const channel = message.channel;
  const inDm = !message.inGuild();
  const ownThread = channel.isThread() && channel.ownerId === botId;
  const mentioned = message.mentions.users.has(botId);
  const replied = message.reference?.messageId ? await message.fetchReference().catch(() => undefined) : undefined;
  const replyToBot = replied?.author.id === botId ? replied : undefined;
  if (!inDm && !ownThread && !mentioned && !replyToBot) return;

  const denied = refusal(context.settings, originOf(message));
  if (denied) {
    await replyTo(message, denied);
    return;
  }
  const user = userRef(message.author);
  const busy = await overLimit(bot, user, message.guildId);
  if (busy) {
    await replyTo(message, busy);
    return;
  }
  const text = message.content.replace(new RegExp(`<@!?${botId}>`, 'g'), '').trim();

  // A reply to a result continues from that exact result, in that result's conversation.
  const continued = replyToBot ? resultTarget(replyToBot) : undefined;
  let conversationId: string;
  if (continued) conversationId = continued.subject;
  else {
    const scope: DiscordScope = inDm
      ? { kind: 'dm', channelId: message.channelId }
      : ownThread
        ? { kind: 'thread', channelId: message.channelId }
        : { kind: 'chain', channelId: message.channelId, rootMessageId: replyToBot?.reference?.messageId ?? replyToBot?.id ?? message.id };
    const conversation = await bot.startConversation({
      user,
      platform: 'discord',
      externalId: scopeKey(scope),
      title: clip(text || 'Discord conversation', 80),
    });
    conversationId = conversation.id;
  }

  let files: IncomingFile[];
  try {
    files = await Promise.all(
      [...message.attachments.values()].map((a) => fetchAttachment({ url: a.url, name: a.name, size: a.size, contentType: a.contentType }, context.intake)),
    );
  } catch (error) {
    await replyTo(message, `⚠️ ${explain(context, error)}`);
    return;
  }
  await context.deliveries.duringTurn(conversationId, async () => {
    if (continued && continued.mediaId !== '-') await bot.act({ conversationId, user, action: 'use', mediaId: continued.mediaId });
    const result = await bot.handleTurn({ conversationId, user, text, files, eventKey: `discord:message:${message.id}` });
    // The gateway replays events after a resume; a message handled before says nothing again.
    if (result.duplicate) return;
    if (result.job) {
      const status = await message.reply({
        content: progressText(result.job),
        components: isDone(result.job) ? [] : [cancelRow(result.job.id, user.externalId)],
        allowedMentions: { repliedUser: false },
      });
      await context.deliveries.followMessage(status, result.job, user.externalId);
      return;
    }
    if (result.botTurn) {
      const rendered = await renderTurn(bot, result.botTurn, {
        conversationId,
        ownerId: user.externalId,
        uploadLimit: DEFAULT_UPLOAD_LIMIT,
        publicUrl: context.settings.PUBLIC_URL,
        video: context.video,
        gate: await discordGate(context, message.channelId, conversationId),
      });
      await message.reply({ ...rendered, allowedMentions: { repliedUser: false } });
    }
  });
}

async function replyTo(message: Message, text: string): Promise<void> {
  await message.reply({ content: clip(text), allowedMentions: { repliedUser: false } });
}

function isDone(job: JobView): boolean {
  return job.state === 'succeeded' || job.state === 'failed' || job.state === 'cancelled';
}

/** The conversation and exact media a bot result message's buttons point at. */
function resultTarget(message: Message): ComponentTarget | undefined {
  for (const row of message.components) {
    if (!('components' in row)) continue;
    for (const component of row.components) {
      const customId = 'customId' in component ? component.customId : null;
      const target = customId ? decodeCustomId(customId) : undefined;
      if (target && target.action !== 'cancel' && target.mediaId !== '-') return target;
    }
  }
  return undefined;
}
