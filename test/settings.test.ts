import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTING_NAMES, loadSettings } from '../src/config/settings.ts';
import { SettingsError } from '../src/errors.ts';

describe('settings', () => {
  it('has working defaults for an empty environment', () => {
    const settings = loadSettings({}, '/srv/vitron');
    expect(settings.PORT).toBe(3000);
    expect(settings.DATA_DIR).toBe('/srv/vitron/data');
    expect(settings.PGLITE_DIR).toBe('/srv/vitron/data/db');
    expect(settings.MEDIA_DIR).toBe('/srv/vitron/data/media');
    expect(settings.DATABASE_URL).toBeUndefined();
    expect(settings.inferenceThreads).toBeGreaterThanOrEqual(1);
  });

  it.each([
    [{ PORT: 'abc' }, 'Setting PORT: expected an integer from 0 to 65535, received "abc"'],
    [{ PORT: '70000' }, 'Setting PORT: expected an integer from 0 to 65535, received "70000"'],
    [{ DATABASE_URL: 'mysql://db/x' }, 'Setting DATABASE_URL: expected a URL starting with postgres:// or postgresql://, received "mysql://db/x"'],
    [{ EXECUTION_PROVIDER: 'tpu' }, 'Setting EXECUTION_PROVIDER: expected one of cpu, cuda, received "tpu"'],
    [{ MODELS_ALLOW_DOWNLOAD: 'perhaps' }, 'Setting MODELS_ALLOW_DOWNLOAD: expected true or false, received "perhaps"'],
  ])('stops on a wrong value with one line naming the setting: %o', (env, message) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(message);
    try {
      loadSettings(env);
    } catch (error) {
      expect((error as Error).message.split('\n')).toHaveLength(1);
    }
  });

  it('parses booleans and numbers from their text forms', () => {
    const settings = loadSettings({ MODELS_ALLOW_DOWNLOAD: 'off', INFERENCE_THREADS: '3', PGLITE_DIR: 'memory://' });
    expect(settings.MODELS_ALLOW_DOWNLOAD).toBe(false);
    expect(settings.inferenceThreads).toBe(3);
    expect(settings.PGLITE_DIR).toBe('memory://');
  });

  it('reads chat platform id lists, and never echoes a malformed token', () => {
    const settings = loadSettings({ DISCORD_ALLOWED_GUILDS: '123456789012, 987654321098', SLACK_ALLOWED_CHANNELS: 'C0123ABC' });
    expect(settings.DISCORD_ALLOWED_GUILDS).toEqual(['123456789012', '987654321098']);
    expect(settings.SLACK_ALLOWED_CHANNELS).toEqual(['C0123ABC']);
    expect(settings.SLACK_PORT).toBe(3001);
    expect(() => loadSettings({ DISCORD_ALLOWED_GUILDS: 'general' })).toThrow(
      'Setting DISCORD_ALLOWED_GUILDS: expected a comma-separated list of Discord server ids, received "general"',
    );
    for (const [name, value] of [
      ['SLACK_BOT_TOKEN', 'xoxp-user-token-1234'],
      ['ADMIN_TOKEN', 'short-secret'],
      ['SLACK_SIGNING_SECRET', 'not-a-secret!!'],
    ] as const) {
      let message = '';
      try {
        loadSettings({ [name]: value });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(`Setting ${name}: expected`);
      expect(message).toContain(`a value of ${value.length} characters (not shown)`);
      expect(message).not.toContain(value);
    }
  });

  it('documents every setting in .env.example', () => {
    const example = fs.readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const missing = SETTING_NAMES.filter((name) => !new RegExp(`^#? ?${name}=`, 'm').test(example));
    expect(missing).toEqual([]);
  });
});
