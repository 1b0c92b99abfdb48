import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { SettingsError } from '../../src/errors.ts';

describe('worker and queue settings', () => {
  it('defaults to the in-process queue with a worker in the bot, one job per lane per inference thread', () => {
    const settings = loadSettings({ WORKER_THREADS: '3' });
    expect(settings.REDIS_URL).toBeUndefined();
    expect(settings.QUEUE_PREFIX).toBe('vitron');
    expect(settings.RUN_WORKER).toBe(true);
    expect(settings.workerConcurrency).toBe(3);
    expect(settings.workerTasks).toBeUndefined();
  });

  it('reads a worker that takes only some tasks', () => {
    const settings = loadSettings({
      REDIS_URL: 'rediss://queue.internal:6380',
      WORKER_TASKS: 'cutout, colorize',
      WORKER_CONCURRENCY: '2',
      RUN_WORKER: 'false',
    });
    expect(settings.workerTasks).toEqual(['cutout', 'colorize']);
    expect(settings.workerConcurrency).toBe(2);
    expect(settings.RUN_WORKER).toBe(false);
  });

  it.each([
    [{ REDIS_URL: 'http://127.0.0.1:6379' }, 'Setting REDIS_URL: expected a URL starting with redis:// or rediss://, received "http://127.0.0.1:6379"'],
    [{ WORKER_TASKS: 'cutout,paint' }, 'Setting WORKER_TASKS: expected a comma-separated list of task names such as cutout,style, received "paint"'],
    [{ WORKER_TASKS: 'undo' }, 'Setting WORKER_TASKS: expected a comma-separated list of task names such as cutout,style, received "undo"'],
    [{ QUEUE_PREFIX: 'my queue' }, 'Setting QUEUE_PREFIX: expected letters, digits, _ or -, received "my queue"'],
  ])('stops on a wrong value with one line naming the setting: %o', (env, message) => {
    expect(() => loadSettings(env)).toThrow(SettingsError);
    expect(() => loadSettings(env)).toThrow(message);
  });
});
