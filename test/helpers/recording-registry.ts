import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Settings } from '../../src/config/settings.ts';
import { ModelRegistry } from '../../src/vision/models/model-registry.ts';

/** What a recording session reports of each run: the graph's file name ('' when loaded from bytes), its session and feeds. */
export type RunRecorder = (run: { file: string; session: ort.InferenceSession; feeds: ort.InferenceSession.FeedsType }) => void;

/**
 * A registry whose sessions tell `record` about every `run` before it happens: what reached each graph, and
 * how often, seen from the outside of the code under test.
 */
export function recordingRegistry(settings: Settings, record: RunRecorder): ModelRegistry {
  return new ModelRegistry({
    settings,
    createSession: async (model, options) => {
      const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
      const file = typeof model === 'string' ? path.basename(model) : '';
      const run = session.run.bind(session);
      session.run = ((feeds: ort.InferenceSession.FeedsType, ...rest: unknown[]) => {
        record({ file, session, feeds });
        return (run as (...args: unknown[]) => ReturnType<typeof run>)(feeds, ...rest);
      }) as typeof session.run;
      return session;
    },
  });
}
