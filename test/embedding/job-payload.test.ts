/**
 * Where the continuous half travels: in the queue payload (to a worker on this machine or another), not in the
 * store (the job's plan, and so each result's "made by", "again" and the planner's context keep the words only).
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { submitJob } from '../../src/app/job-submission.ts';
import type { JobPayload } from '../../src/core/job.ts';
import type { Invocation, MediaInfo } from '../../src/core/types.ts';
import type { JobRecord, ResolvedStep, Turn, User } from '../../src/store/types.ts';
import { testSettings } from '../helpers/specialist-context.ts';

const picture: MediaInfo = { id: 'media-1', sha256: 'abc', kind: 'image', mime: 'image/png', bytes: 10, width: 64, height: 48 };

describe('a job with embeddings', () => {
  it('sends them in the queue payload and stores the invocation without them', async () => {
    const stored: ResolvedStep[][] = [];
    const queued: JobPayload[] = [];
    const deps = {
      settings: testSettings(),
      logger: pino({ level: 'silent' }),
      readiness: { check: () => {} },
      conversations: { resolveTargets: async () => [picture] },
      repos: {
        jobs: {
          listCountedForUserSince: async () => [],
          create: async (input: { steps: ResolvedStep[] }): Promise<JobRecord> => {
            stored.push(input.steps);
            return {
              id: 'job-1',
              conversationId: 'c',
              turnId: 't',
              userId: 'u',
              state: 'queued',
              steps: input.steps,
              attempts: 0,
              progress: { fraction: 0, note: null },
              error: null,
              result: null,
              createdAt: new Date(),
              startedAt: null,
              finishedAt: null,
            };
          },
        },
      },
      queue: {
        enqueue: async (job: { payload: JobPayload }) => {
          queued.push(job.payload);
          return { position: 0 };
        },
      },
    };
    const invocation: Invocation = {
      task: 'segment',
      targets: ['current'],
      args: { phrase: 'the sky' },
      embeddings: { 'phrase@clipseg-rd64:text:0a1b2c3d#0123456789ab': [1, 1, 1] },
    };
    const started = await submitJob(deps as never, 'c', { id: 'u' } as User, { id: 't' } as Turn, [invocation]);
    expect(started).toHaveProperty('job');
    expect(queued[0]!.steps[0]!.invocation.embeddings).toEqual(invocation.embeddings);
    expect(stored[0]![0]!.invocation).toEqual({ task: 'segment', targets: ['current'], args: { phrase: 'the sky' } });
  });
});
