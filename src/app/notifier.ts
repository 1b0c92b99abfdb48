import type { Tone } from './tone.ts';
import type { JobProgress } from '../core/types.ts';
import type { ConversationService } from '../conversation/conversation-service.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { JobRecord } from '../store/types.ts';
import type { JobOutcome, JobPayload } from '../core/job.ts';
import type { BotEvent, JobView, TurnView } from './bot-api.ts';
import { EventHub } from './event-hub.ts';
import { jobView, turnView } from './views.ts';

/** Everything the bot says goes through here: recorded as a turn first, then published to listeners. */
export class ConversationNotifier {
  readonly events = new EventHub();

  constructor(
    private readonly conversations: ConversationService,
    private readonly queue: JobQueue<JobPayload, JobOutcome>,
  ) {}

  publish(event: BotEvent): void {
    this.events.publish(event);
  }

  jobView(job: JobRecord, progress?: JobProgress): JobView {
    const position = job.state === 'queued' ? this.queue.position(job.id) : undefined;
    return jobView(job, { ...(position === undefined ? {} : { queuePosition: position }), ...(progress ? { progress } : {}) });
  }

  async reply(conversationId: string, text: string, tone: Tone = 'normal'): Promise<TurnView> {
    const turn = await this.conversations.recordBotTurn(conversationId, text);
    const view = turnView(turn, [], { tone });
    this.publish({ type: 'turn', conversationId, turn: view });
    return view;
  }

  /** A job that ended without results (failed, cancelled) still gets a turn that says so. */
  async reportEnd(job: JobRecord, text: string): Promise<void> {
    const turn = await this.conversations.recordBotTurn(job.conversationId, text);
    const tone: Tone = job.state === 'failed' ? 'error' : 'normal';
    this.publish({ type: 'job.finished', conversationId: job.conversationId, job: this.jobView(job), turn: turnView(turn, [], { tone }) });
  }
}
