import type { Invocation, MediaKind } from '../../src/core/types.ts';
import type { MediaFacts } from '../../src/store/types.ts';
import { uniqueName } from './backends.ts';

/** Media facts as the media layer would report them; sha256 differs per call. */
export function facts(kind: MediaKind = 'image', extra: Partial<MediaFacts> = {}): MediaFacts {
  const sha256 = Buffer.from(uniqueName('sha')).toString('hex').padEnd(64, '0').slice(0, 64);
  return kind === 'image'
    ? { sha256, kind, mime: 'image/png', bytes: 1234, width: 640, height: 480, ...extra }
    : { sha256, kind, mime: 'video/mp4', bytes: 98765, width: 320, height: 240, durationSec: 2.5, fps: 24, frameCount: 60, hasAudio: false, ...extra };
}

export function invocation(task: Invocation['task'] = 'remove', args: Record<string, unknown> = { phrase: 'the dog' }): Invocation {
  return { task, targets: ['current'], args };
}
