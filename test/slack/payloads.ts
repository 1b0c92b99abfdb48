import type { FakeSlack } from '../fakes/slack/fake-slack.ts';

/** A block_actions payload as Slack sends it when a user clicks one of the app's buttons. */
export function buttonClick(
  fake: FakeSlack,
  button: { action_id: string; value: string },
  where: { channel: string; messageTs: string; threadTs?: string; user?: string },
): Record<string, unknown> {
  return {
    type: 'block_actions',
    token: 'verification-token-unused',
    api_app_id: 'A0TEST',
    trigger_id: '1.2.3',
    user: { id: where.user ?? 'U1', username: 'user', name: 'user', team_id: fake.teamId },
    team: { id: fake.teamId, domain: 'fake' },
    channel: { id: where.channel, name: 'general' },
    container: {
      type: 'message',
      message_ts: where.messageTs,
      channel_id: where.channel,
      is_ephemeral: false,
      ...(where.threadTs ? { thread_ts: where.threadTs } : {}),
    },
    message: { type: 'message', ts: where.messageTs, ...(where.threadTs ? { thread_ts: where.threadTs } : {}), text: '' },
    actions: [{ type: 'button', action_id: button.action_id, block_id: 'b', value: button.value, action_ts: fake.nextTs() }],
  };
}

export function slashCommand(fake: FakeSlack, text: string, where: { channel: string; user?: string }): Record<string, string> {
  return {
    token: 'verification-token-unused',
    team_id: fake.teamId,
    team_domain: 'fake',
    channel_id: where.channel,
    channel_name: 'general',
    user_id: where.user ?? 'U1',
    user_name: 'user',
    command: '/vitron',
    text,
    api_app_id: 'A0TEST',
    response_url: `${fake.url}/response-url`,
    trigger_id: '1.2.3',
  };
}

export function messageShortcut(
  fake: FakeSlack,
  message: { ts: string; thread_ts?: string; files?: unknown[]; text?: string },
  where: { channel: string; user?: string },
): Record<string, unknown> {
  return {
    type: 'message_action',
    token: 'verification-token-unused',
    callback_id: 'edit_with_vitron',
    trigger_id: '1.2.3',
    action_ts: fake.nextTs(),
    team: { id: fake.teamId, domain: 'fake' },
    user: { id: where.user ?? 'U1', name: 'user', team_id: fake.teamId },
    channel: { id: where.channel, name: 'general' },
    message: { type: 'message', user: 'U2', text: message.text ?? '', ...message },
    response_url: `${fake.url}/response-url`,
  };
}
