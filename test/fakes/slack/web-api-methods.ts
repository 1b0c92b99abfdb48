/**
 * What each Web API method the app calls answers, and what it does to the fake's messages and files:
 * auth, chat.postMessage / update / delete / postEphemeral, the external upload flow, files.info and
 * files.delete, and the assistant and reaction calls the app only needs acknowledged. Tokens are checked
 * as Slack does.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSlack } from './fake-slack.ts';
import type { FakeFile, FakeMessage } from './shapes.ts';

export function answerMethod(fake: FakeSlack, method: string, args: Record<string, unknown>, token: string | undefined): Record<string, unknown> {
  if (method === 'apps.connections.open') {
    if (token !== fake.appToken) return { ok: false, error: 'invalid_auth' };
    return { ok: true, url: `${fake.url.replace('http', 'ws')}/socket?ticket=${randomUUID()}` };
  }
  if (token !== fake.botToken) return { ok: false, error: 'invalid_auth' };
  switch (method) {
    case 'auth.test':
      return {
        ok: true,
        url: 'https://fake.slack.test/',
        team: 'Fake',
        user: 'vitron',
        team_id: fake.teamId,
        user_id: fake.botUserId,
        bot_id: 'B0BOT',
        is_enterprise_install: false,
      };
    case 'chat.postMessage': {
      if (fake.notMemberOf.has(String(args.channel))) return { ok: false, error: 'not_in_channel' };
      if (!blocksValid(args)) return { ok: false, error: 'invalid_blocks' };
      const message: FakeMessage = { channel: String(args.channel), ts: fake.nextTs(), user: fake.botUserId, ...textAndBlocks(args) };
      if (args.thread_ts) message.thread_ts = String(args.thread_ts);
      fake.messages.push(message);
      // Slack clears an assistant status when the app replies in its thread.
      if (message.thread_ts) fake.setAssistantStatus(message.channel, message.thread_ts, '', 'reply');
      return { ok: true, channel: message.channel, ts: message.ts, message: { ...message, type: 'message' } };
    }
    case 'chat.update': {
      if (!blocksValid(args)) return { ok: false, error: 'invalid_blocks' };
      const message = fake.messages.find((m) => m.channel === String(args.channel) && m.ts === String(args.ts));
      if (!message) return { ok: false, error: 'message_not_found' };
      Object.assign(message, textAndBlocks(args));
      return { ok: true, channel: message.channel, ts: message.ts };
    }
    case 'chat.delete': {
      const index = fake.messages.findIndex((m) => m.channel === String(args.channel) && m.ts === String(args.ts));
      if (index < 0) return { ok: false, error: 'message_not_found' };
      if (fake.messages[index]!.user !== fake.botUserId) return { ok: false, error: 'cant_delete_message' };
      fake.messages.splice(index, 1);
      return { ok: true, channel: String(args.channel), ts: String(args.ts) };
    }
    case 'files.info':
      return fileInfo(fake, String(args.file));
    case 'files.delete':
      return deleteFile(fake, String(args.file));
    case 'chat.postEphemeral':
      return { ok: true, message_ts: fake.nextTs() };
    case 'files.getUploadURLExternal': {
      const id = `F${randomUUID().replace(/-/g, '').slice(0, 10).toUpperCase()}`;
      fake.uploads.set(id, { filename: String(args.filename), length: Number(args.length) });
      return { ok: true, upload_url: `${fake.url}/upload/${id}`, file_id: id };
    }
    case 'files.completeUploadExternal':
      return completeUpload(fake, args);
    case 'assistant.threads.setStatus':
      fake.setAssistantStatus(String(args.channel_id), String(args.thread_ts), String(args.status ?? ''), 'app');
      return { ok: true };
    case 'assistant.threads.setSuggestedPrompts':
    case 'assistant.threads.setTitle':
    case 'reactions.add':
      return { ok: true };
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

/** Shares the uploaded bytes as files, and as a message in `channel_id` (a thread) when one is named. */
function completeUpload(fake: FakeSlack, args: Record<string, unknown>): Record<string, unknown> {
  const list = (typeof args.files === 'string' ? JSON.parse(args.files) : args.files) as { id: string; title?: string }[];
  const shared: FakeFile[] = [];
  for (const entry of list) {
    const upload = fake.uploads.get(entry.id);
    if (!upload?.bytes) return { ok: false, error: 'file_not_found' };
    const file = fake.addFile(upload.bytes, upload.filename, mimeOf(upload.filename));
    shared.push(file);
  }
  if (args.channel_id) {
    const message: FakeMessage = { channel: String(args.channel_id), ts: fake.nextTs(), user: fake.botUserId, files: shared };
    if (args.thread_ts) message.thread_ts = String(args.thread_ts);
    if (args.initial_comment) message.text = String(args.initial_comment);
    fake.messages.push(message);
    if (message.thread_ts) fake.setAssistantStatus(message.channel, message.thread_ts, '', 'reply');
  }
  return { ok: true, files: shared.map((f) => ({ id: f.id, title: f.title })) };
}

/** The file with where it is shared, as Slack lists it: shares.public (C…) or shares.private, by channel. */
function fileInfo(fake: FakeSlack, id: string): Record<string, unknown> {
  const file = fake.files.get(id);
  if (!file) return { ok: false, error: 'file_not_found' };
  const { bytes: _bytes, ...shown } = file;
  const shares: Record<'public' | 'private', Record<string, { ts: string; thread_ts?: string }[]>> = { public: {}, private: {} };
  for (const message of fake.messages) {
    if (!message.files?.some((f) => f.id === id)) continue;
    const kind = message.channel.startsWith('C') ? 'public' : 'private';
    const list = shares[kind][message.channel] ?? [];
    list.push({ ts: message.ts, ...(message.thread_ts ? { thread_ts: message.thread_ts } : {}) });
    shares[kind][message.channel] = list;
  }
  return { ok: true, file: { ...shown, shares } };
}

/**
 * Deletes the file. As in Slack, a message that only shared it stays, as a "This file was deleted" line,
 * until it is deleted itself (chat.delete).
 */
function deleteFile(fake: FakeSlack, id: string): Record<string, unknown> {
  if (!fake.files.delete(id)) return { ok: false, error: 'file_not_found' };
  for (const message of fake.messages) {
    if (!message.files?.some((f) => f.id === id)) continue;
    message.files = message.files.filter((f) => f.id !== id);
    if (message.files.length === 0 && !message.text) message.text = FILE_DELETED;
  }
  return { ok: true };
}

export const FILE_DELETED = 'This file was deleted.';

/** Slack's section rule: a text over 3000 characters makes the whole message invalid_blocks. */
export const SECTION_TEXT_LIMIT = 3000;

function blocksValid(args: Record<string, unknown>): boolean {
  const blocks = textAndBlocks(args).blocks ?? [];
  return blocks.every((block) => {
    const { type, text } = block as { type?: string; text?: { text?: string } };
    return type !== 'section' || (text?.text ?? '').length <= SECTION_TEXT_LIMIT;
  });
}

function textAndBlocks(args: Record<string, unknown>): { text?: string; blocks?: unknown[] } {
  const out: { text?: string; blocks?: unknown[] } = {};
  if (args.text !== undefined) out.text = String(args.text);
  if (args.blocks !== undefined) out.blocks = (typeof args.blocks === 'string' ? JSON.parse(args.blocks) : args.blocks) as unknown[];
  return out;
}

function mimeOf(filename: string): string {
  const ext = filename.split('.').pop()?.toLowerCase();
  return ext === 'mp4' ? 'video/mp4' : ext === 'jpg' || ext === 'jpeg' ? 'image/jpeg' : ext === 'webp' ? 'image/webp' : 'image/png';
}
