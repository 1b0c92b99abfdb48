/**
 * The shapes the fake Discord records and stores (REST calls, messages), its snowflake ids and the
 * permission bits it grants: shared by the REST side, the gateway and the payload builders.
 */

export interface RecordedCall {
  method: string;
  /** Path below /api/v10, without the query string. */
  path: string;
  query: URLSearchParams;
  /** Parsed JSON body (or payload_json of a multipart body). */
  body: any;
  files: { name: string; contentType: string; bytes: Buffer }[];
  status: number;
}

export interface FakeMessage {
  id: string;
  channel_id: string;
  guild_id?: string;
  content: string;
  author: any;
  attachments: any[];
  components: any[];
  embeds: any[];
  nonce?: string;
  message_reference?: any;
  timestamp: string;
  edited_timestamp: string | null;
  type: number;
  flags?: number;
  mentions: any[];
  mention_roles: string[];
  mention_everyone: boolean;
  pinned: boolean;
  tts: boolean;
}

let snowflakeSeq = 0n;
export function snowflake(): string {
  snowflakeSeq += 1n;
  // Real-looking ids: a timestamp part plus a counter, so ordering and length match Discord's.
  return ((BigInt(Date.now() - 1420070400000) << 22n) + snowflakeSeq).toString();
}

export const PERMISSIONS = {
  ADMINISTRATOR: 1n << 3n,
  MANAGE_MESSAGES: 1n << 13n,
  DEFAULT: (1n << 10n) | (1n << 11n) | (1n << 15n) | (1n << 16n) | (1n << 38n),
};
