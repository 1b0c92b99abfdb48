/**
 * `npm run bench:slack`: the Slack adapter's own cost, against the local fake Slack.
 * - event → ack: how long Slack waits for the ack of a mention, with N users sending at once (Socket Mode).
 * - overhead: one small job through Slack (download, turn, progress, upload, buttons) vs the same job
 *   submitted to the bot directly (turn → job.finished). The difference is what the adapter adds.
 * BENCH_SLACK_USERS / BENCH_SLACK_ROUNDS / BENCH_SLACK_JOBS scale it.
 */
import { pathToFileURL } from 'node:url';
import { solidImage } from '../helpers/media-fixtures.ts';
import { isResultMessage, startSlackRig } from './slack-rig.ts';

export interface SlackBenchOptions {
  users: number;
  rounds: number;
  jobs: number;
}

export interface SlackBenchReport {
  ackMs: { p50: number; p99: number; count: number };
  directMs: number;
  viaSlackMs: number;
  lines: string[];
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

export async function runSlackBench(options: SlackBenchOptions): Promise<SlackBenchReport> {
  const rig = await startSlackRig({ env: { USER_RATE_LIMIT_PER_MINUTE: '0', USER_MAX_QUEUED_JOBS: '1000' } });
  try {
    const { fake, bot } = rig;
    // Event → ack: each user's "help" mention is a full turn, but Slack only waits for the ack.
    const acks: number[] = [];
    for (let round = 0; round < options.rounds; round++) {
      await Promise.all(
        Array.from({ length: options.users }, async (_, user) => {
          const body = fake.eventCallback({ type: 'app_mention', user: `UB${user}`, text: '<@UBOT> help', ts: fake.nextTs(), channel: 'CBENCH' });
          const started = performance.now();
          await fake.sendEnvelope('events_api', body);
          acks.push(performance.now() - started);
        }),
      );
    }
    await fake.waitForCalls('chat.postMessage', options.users * options.rounds, (a) => a.channel === 'CBENCH');
    acks.sort((a, b) => a - b);

    const image = await solidImage(32, 32, '#cc3333');
    const direct: number[] = [];
    const viaSlack: number[] = [];
    const user = { platform: 'bench', externalId: 'bench-user' };
    for (let i = 0; i < options.jobs; i++) {
      const conversation = await bot.running.bot.startConversation({ user, title: `bench ${i}` });
      const from = rig.events.events.length;
      const started = performance.now();
      const turn = await bot.running.bot.handleTurn({ conversationId: conversation.id, user, text: 'make it black and white', files: [{ bytes: image }] });
      await rig.events.next('job.finished', from, (e) => e.job.id === turn.job?.id);
      direct.push(performance.now() - started);

      const file = fake.addFile(image, 'bench.png');
      const ts = fake.nextTs();
      const begun = performance.now();
      await fake.sendEnvelope('events_api', fake.eventCallback({ type: 'app_mention', user: 'UJOB', text: '<@UBOT> make it black and white', ts, channel: 'CJOB', files: [file] }));
      await fake.waitForCall('chat.postMessage', (a) => a.thread_ts === ts && isResultMessage(a));
      viaSlack.push(performance.now() - begun);
    }
    const report = {
      ackMs: { p50: percentile(acks, 50), p99: percentile(acks, 99), count: acks.length },
      directMs: median(direct),
      viaSlackMs: median(viaSlack),
    };
    return {
      ...report,
      lines: [
        `event → ack (Socket Mode, ${options.users} users at once × ${options.rounds}): p50 ${report.ackMs.p50.toFixed(1)} ms, p99 ${report.ackMs.p99.toFixed(1)} ms (${report.ackMs.count} events)`,
        `small job, median of ${options.jobs}: direct ${report.directMs.toFixed(1)} ms, via Slack ${report.viaSlackMs.toFixed(1)} ms, adapter overhead ${(report.viaSlackMs - report.directMs).toFixed(1)} ms`,
      ],
    };
  } finally {
    await rig.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await runSlackBench({
    users: Number(process.env.BENCH_SLACK_USERS ?? 50),
    rounds: Number(process.env.BENCH_SLACK_ROUNDS ?? 4),
    jobs: Number(process.env.BENCH_SLACK_JOBS ?? 5),
  });
  console.log('== Slack adapter ==');
  for (const line of report.lines) console.log(line);
}
