import { describe, expect, it } from 'vitest';
import { resultBlocks } from '../../adapters/slack/blocks.ts';
import type { MediaView } from '../../src/app/bot-api.ts';

/** A clip's buttons in Slack: Longer only when the core offers it (TurnView.actions), and no Animate on a video. */

const clip: MediaView = {
  id: 'm2',
  kind: 'video',
  mime: 'video/mp4',
  width: 320,
  height: 240,
  bytes: 1000,
  durationSec: 3,
  role: 'result',
  parentId: 'm1',
  url: '/api/media/m2',
};

const labels = (blocks: { type: string; elements?: unknown }[]) =>
  blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as { text: { text: string } }[]).map((e) => e.text.text) : []));
const actionIds = (blocks: { type: string; elements?: unknown }[]) =>
  blocks.flatMap((b) => (b.type === 'actions' ? (b.elements as { action_id: string }[]).map((e) => e.action_id) : []));

describe('Slack result blocks for a clip', () => {
  it('show Retry and Longer when the turn offers longer, and act on that exact clip', () => {
    const { blocks } = resultBlocks('Animated.', clip, 'c1', 'j1', ['undo', 'download', 'use', 'retry', 'longer']);
    expect(labels(blocks)).toEqual(['Undo', 'Redo', 'Retry', 'Longer', 'Upscale', 'Cut out']);
    const longer = blocks
      .flatMap((b) => (b.type === 'actions' ? (b.elements as { action_id: string; value: string }[]) : []))
      .find((e) => e.action_id.startsWith('vitron:longer'))!;
    expect(JSON.parse(longer.value)).toMatchObject({ c: 'c1', m: 'm2', j: 'j1', p: 'm1' });
  });

  it('leave Longer out when the turn does not offer it (a clip at its longest)', () => {
    const { blocks } = resultBlocks('Animated.', clip, 'c1', 'j1', ['undo', 'download', 'use', 'retry']);
    expect(labels(blocks)).not.toContain('Longer');
    expect(actionIds(blocks).some((id) => id.startsWith('vitron:retry'))).toBe(true);
  });
});
