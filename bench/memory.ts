/** Resident memory of `npm start` as a user gets it: idle on a reopened data dir, then two runs of every default CPU model. */
import { formatBytes } from '../src/media/limits.ts';
import { type BenchSection, formatGoal, type Goal } from './measure.ts';
import { measureMemory } from './memory-probe.ts';

const MiB = 2 ** 20;
/** Issue 17's goals for a 2 GB machine. */
const IDLE_GOAL = 350 * MiB;
const STEADY_GOAL = 900 * MiB;
const MAX_GOAL = 1.2 * 1024 * MiB;

export const memorySection: BenchSection = {
  name: 'memory',
  async run() {
    const m = await measureMemory();
    const line = (label: string, bytes: number) => `  ${label.padEnd(62)} ${formatBytes(bytes).padStart(10)}`;
    const goal = (what: string, bytes: number, limit: number): Goal => ({
      text: `${what} ${formatBytes(bytes)} / ${formatBytes(limit)}`,
      limit: 1,
      actual: bytes / limit,
    });
    const goals = [goal('idle RSS', m.idleTreeBytes, IDLE_GOAL), goal('steady RSS', m.steadyTreeBytes, STEADY_GOAL), goal('max RSS', m.maxTreeBytes, MAX_GOAL)];
    return {
      title: `memory: RSS of the \`npm start\` process tree on a reopened data dir; every default model's job run twice`,
      lines: [
        line('idle after start (tree: npm, node with its threads)', m.idleTreeBytes),
        line('idle after start (the bot node process alone)', m.idleBotBytes),
        `  ${'tree after each job, first round / second round'.padEnd(62)}`,
        ...m.tasks.map(
          (task) => `    ${`"${task.text}"`.padEnd(46)} ${formatBytes(task.afterFirstBytes).padStart(10)} / ${formatBytes(task.afterSecondBytes).padStart(10)}`,
        ),
        line('steady after the jobs (tree)', m.steadyTreeBytes),
        line('max over start and jobs (tree, sampled every 100 ms)', m.maxTreeBytes),
        ...goals.map(formatGoal),
      ],
      goals,
    };
  },
};
