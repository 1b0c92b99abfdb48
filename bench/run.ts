/**
 * `npm run bench [-- section…]`: each section measures our pipeline against its floor (session.run alone,
 * same weights, same run) and against the weights' own npm package. Add a section by appending to SECTIONS.
 * BENCH_RUNS / BENCH_WARMUP set the number of timed and warm-up runs.
 */
import os from 'node:os';
import { animateSection } from './animate.ts';
import { bullmqSection } from './bullmq.ts';
import { cutoutSection } from './cutout.ts';
import { discordSection } from './discord.ts';
import { embeddingsSection } from './embeddings.ts';
import { generationSection } from './generation.ts';
import { mcpSection } from './mcp.ts';
import { memorySection } from './memory.ts';
import { ocrSection } from './ocr.ts';
import { plannerSection } from './planner.ts';
import { pulledSection } from './pulled.ts';
import { queueSection } from './queue.ts';
import { slackSection } from './slack.ts';
import { visionSection } from './vision.ts';

/** The sections that time models, in the order they run (split from SECTIONS only to keep that line short). */
const MODEL_SECTIONS = [cutoutSection, ocrSection, visionSection, pulledSection, generationSection, embeddingsSection, animateSection];
export const SECTIONS = [...MODEL_SECTIONS, queueSection, bullmqSection, memorySection, slackSection, discordSection, mcpSection, plannerSection];

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const runs = Number(process.env.BENCH_RUNS ?? 5);
const warmup = Number(process.env.BENCH_WARMUP ?? 1);

console.log(
  `vitron-chat bench: node ${process.version}, ${os.cpus().length} CPUs, load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
let failed = false;
for (const section of SECTIONS) {
  if (wanted.length > 0 && !wanted.includes(section.name)) continue;
  try {
    const report = await section.run({ runs, warmup });
    console.log(`\n== ${report.title} ==`);
    for (const line of report.lines) console.log(line);
  } catch (error) {
    failed = true;
    console.log(`\n== ${section.name} ==\n  failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
}
process.exitCode = failed ? 1 : 0;
