import * as ort from 'onnxruntime-node';
import { ModelRegistry } from '../src/vision/models/model-registry.ts';
import type { RegistrySettings } from '../src/vision/models/model-registry.ts';

interface RecordedRun {
  session: ort.InferenceSession;
  feeds: Record<string, ort.Tensor>;
  fetches?: readonly string[];
}

/**
 * A model registry whose sessions can record the exact feeds a pipeline sends them, so that the floor
 * (session.run alone) replays the very same tensors on the very same sessions.
 */
export class RecordingRegistry {
  readonly models: ModelRegistry;
  private recording = false;
  private recorded: RecordedRun[] = [];

  constructor(settings: RegistrySettings) {
    this.models = new ModelRegistry({
      settings,
      createSession: async (model, options) => {
        const session = typeof model === 'string' ? await ort.InferenceSession.create(model, options) : await ort.InferenceSession.create(model, options);
        const run = session.run.bind(session) as (feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) => Promise<ort.InferenceSession.ReturnType>;
        (session as { run: unknown }).run = (feeds: Record<string, ort.Tensor>, fetches?: readonly string[]) => {
          if (this.recording) {
            // Copies, because the pipeline disposes its input tensors after the run.
            const copy = Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, new ort.Tensor('float32', (t.data as Float32Array).slice(), t.dims)]));
            this.recorded.push({ session, feeds: copy, fetches: Array.isArray(fetches) ? [...fetches] : undefined });
          }
          return run(feeds, fetches);
        };
        return session;
      },
    });
  }

  /** Runs `fn` once with recording on; returns a function that replays only its session.run calls. */
  async record(fn: () => Promise<unknown>): Promise<() => Promise<void>> {
    this.recorded = [];
    this.recording = true;
    try {
      await fn();
    } finally {
      this.recording = false;
    }
    const runs = this.recorded;
    return async () => {
      for (const r of runs) {
        const out = await (r.fetches ? r.session.run(r.feeds, r.fetches as string[]) : r.session.run(r.feeds));
        for (const t of Object.values(out)) t.dispose();
      }
    };
  }
}
