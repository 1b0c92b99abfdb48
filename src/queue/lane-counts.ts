import type { Queue } from 'bullmq';

/** The BullMQ states a lane's depth is reported in (`prioritized` is where jobs with a priority wait). */
export const COUNTED_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed'] as const;

export interface LaneCount {
  lane: string;
  state: string;
  count: number;
}

/** Jobs per lane and state, read from Redis (every process's jobs, unlike a bot's own bookkeeping). */
export async function laneCounts(queues: ReadonlyMap<string, Queue>): Promise<LaneCount[]> {
  const rows = await Promise.all(
    [...queues].map(async ([lane, queue]) => {
      const counts = await queue.getJobCounts(...COUNTED_STATES);
      return COUNTED_STATES.map((state) => ({ lane, state, count: counts[state] ?? 0 }));
    }),
  );
  return rows.flat();
}
