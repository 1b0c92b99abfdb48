import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBot, type RunningBot } from '../../src/app/create-bot.ts';
import { loadSettings } from '../../src/config/settings.ts';
import { EventRecorder, testUser } from '../helpers/bot-harness.ts';

/**
 * A missing model is told twice: to the chat user in words they can act on ("ask its admin"), and to the
 * operator with the exact command and files — in the log where the bot refuses, and in /healthz.
 */

let dir: string;
let running: RunningBot;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vitron-hints-'));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const settings = loadSettings({ DATA_DIR: dir, PGLITE_DIR: 'memory://', MODELS_DIR: path.join(dir, 'models'), LOG_LEVEL: 'info' });
  running = await createBot(settings, { recover: false, logger: pino({ level: 'info' }, sink) });
});

afterAll(async () => {
  await running?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('operator hints for missing models', () => {
  it('the chat hears "ask its admin"; the log line where the bot refused has the pull command and the files', async () => {
    const user = testUser();
    const view = await running.bot.startConversation({ user, title: 'depth' });
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#336699' } })
      .png()
      .toBuffer();
    const turn = await running.bot.handleTurn({ conversationId: view.id, user, text: 'show me the depth', files: [{ bytes: png }] });
    expect(turn.job).toBeUndefined();
    expect(turn.botTurn?.text).toBe("This server can't make depth maps yet — ask its admin to enable depth maps.");

    const refused = lines.find((l) => l.msg === 'task refused: not available here' && l.conversationId === view.id);
    expect(refused).toMatchObject({ code: 'MODEL_NOT_INSTALLED', task: 'depth' });
    expect(refused!.operatorHint).toMatch(/depth needs the model "depth-anything-v2-small", which is not installed\./);
    expect(refused!.operatorHint).toContain('npm run models -- pull depth-anything-v2-small');
    expect(refused!.operatorHint).toContain(path.join(dir, 'models', 'depth-anything-v2-small'));
  });

  it('a job that fails for want of a model logs the hint with the failure; the chat hears only the user part', async () => {
    const user = testUser();
    const view = await running.bot.startConversation({ user, title: 'unicorn' });
    const events = new EventRecorder();
    running.bot.subscribe(view.id, events.listener);
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#996633' } })
      .png()
      .toBuffer();
    // A phrase no detector here knows is found out by the specialist, so the job runs and fails.
    const turn = await running.bot.handleTurn({ conversationId: view.id, user, text: 'segment the unicorn', files: [{ bytes: png }] });
    expect(turn.job?.tasks).toEqual(['segment']);
    const finished = await events.finished(turn);
    expect(finished.job.state).toBe('failed');
    expect(finished.turn.text).toMatch(/"unicorn" is not one of them\. .*its admin can enable it\./);
    expect(finished.turn.text).not.toMatch(/npm run models/);
    const failed = lines.find((l) => l.msg === 'job refused its input' && l.jobId === turn.job!.id);
    expect(failed).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(failed!.operatorHint).toContain('npm run models -- pull clipseg-rd64');
  });

  it('/healthz names how to get each model that is not installed, and nothing for those that are', async () => {
    const report = await running.bot.health();
    const florence = report.models.find((m) => m.name === 'florence-2-base')!;
    expect(florence.installed).toBe(false);
    expect(florence.howToGet).toContain('npm run models -- pull florence-2-base');
    expect(florence.howToGet).toContain('onnx/vision_encoder.onnx');
    const centernet = report.models.find((m) => m.name === 'centernet-coco')!;
    expect(centernet.installed).toBe(true);
    expect(centernet.howToGet).toBeUndefined();
  });
});
