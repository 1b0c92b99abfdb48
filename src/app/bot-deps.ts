import type { Logger } from 'pino';
import type { Settings } from '../config/settings.ts';
import type { ConversationService } from '../conversation/conversation-service.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import type { Invocation, Planner } from '../core/types.ts';
import type { Admission } from '../limits/admission.ts';
import type { MediaLinkSigner } from './media-links.ts';
import type { BlobStore } from '../media/blob-store.ts';
import type { FfmpegTools } from '../media/ffmpeg.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { MediaClassifier } from '../safety/nsfw-classifier.ts';
import type { Database } from '../store/database.ts';
import type { Repositories } from '../store/repositories.ts';
import type { TaskReadiness } from '../vision/readiness.ts';

/** What the bot core is built from; create-bot.ts wires the embedded defaults or the scaled-out parts. */
export interface BotDeps {
  settings: Settings;
  logger: Logger;
  db: Database;
  repos: Repositories;
  conversations: ConversationService;
  planner: Planner;
  blobs: BlobStore;
  ffmpeg: FfmpegTools;
  limits: MediaLimits;
  queue: JobQueue<JobPayload, JobOutcome>;
  readiness: TaskReadiness;
  helpText: () => string;
  loadedModels: () => string[];
  admission: Admission;
  /** Safety: the NSFW classifier for uploads; absent when SAFETY=off. */
  classify?: MediaClassifier;
  /**
   * The continuous half of the hybrid message: fills each invocation's `embeddings` (text embeddings of its phrase
   * and prompt for the installed model that will read them) once per turn, before the job is queued. Absent: none.
   */
  embed?: (invocations: readonly Invocation[]) => Promise<Invocation[]>;
  /** Signs and checks the media links chats post (src/app/media-links.ts). */
  links: MediaLinkSigner;
}
