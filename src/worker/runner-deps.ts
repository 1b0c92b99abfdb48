import os from 'node:os';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import { InternalError } from '../errors.ts';
import { createBlobStore } from '../media/blob-store-from-settings.ts';
import { locateFfmpeg } from '../media/ffmpeg.ts';
import { limitsFromSettings } from '../media/limits.ts';
import { createNsfwClassifier } from '../safety/nsfw-classifier.ts';
import { ModelRegistry } from '../vision/models/model-registry.ts';
import { specialistFor } from '../vision/registry.ts';
import { DEFAULT_ENGINE_FACTORIES } from '../vision/engines/engines.ts';
import type { JobRunnerDeps } from './job-runner.ts';

/** What `runJob` needs, built the same way in an inference thread and on the bot's own thread. */
export async function createRunnerDeps(settings: Settings, logger: Pick<Logger, 'warn'>): Promise<JobRunnerDeps & { models: ModelRegistry }> {
  const models = new ModelRegistry({ settings, log: { warn: (message) => logger.warn(message) } });
  const ffmpeg = await locateFfmpeg(settings);
  return {
    settings,
    blobs: createBlobStore(settings),
    models,
    ffmpeg,
    limits: limitsFromSettings(settings),
    specialistFor(task) {
      const specialist = specialistFor(task);
      if (!specialist) throw new InternalError(`${task} is a conversation command, not a job step.`);
      return specialist;
    },
    tmpRoot: os.tmpdir(),
    engines: DEFAULT_ENGINE_FACTORIES,
    // Safety: outputs are classified where they are made; the model loads on the first output, not here.
    ...(settings.SAFETY === 'off' ? {} : { classify: createNsfwClassifier(settings, ffmpeg) }),
  };
}
