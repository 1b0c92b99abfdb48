import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * The quality numbers `npm run eval` measured on this machine, kept in DATA_DIR/eval/quality.json so that
 * model choice (model-choice.ts) and `npm run models -- list` read what was measured here, not a belief.
 * One file may serve several machines sharing a DATA_DIR: each keeps its own numbers under its host name,
 * since the same weights can score differently on another provider (CUDA against CPU kernels).
 */

/** One measured way of doing a comparison's job (a catalog model, or a weightless way such as opencv-telea). */
export interface MeasuredScore {
  value: number;
  /** ISO time of the eval run. */
  measuredAt: string;
  /** The installed files were far smaller than the catalog's: random-weight fixtures, not the real model. */
  fixture?: boolean;
}

/** Every way measured on the same inputs in the same run; higher is better. */
export interface MeasuredComparison {
  /** What the number is, as the eval table heads it ("PSNR dB against the original"). */
  metric: string;
  scores: Record<string, MeasuredScore>;
}

export interface MeasuredQuality {
  comparisons: Record<string, MeasuredComparison>;
  /** Why the file could not be read (it is then treated as empty); undefined when it was fine or absent. */
  problem?: string;
}

/** The comparisons whose numbers decide between installed ways: one per choice the code makes. */
export const CHOICE_COMPARISONS = {
  upscaler: (factor: number) => `upscale-x${factor}`,
  inpainter: 'inpaint',
} as const;

const ScoreSchema = z.object({ value: z.number(), measuredAt: z.string(), fixture: z.boolean().optional() });
const ComparisonSchema = z.object({ metric: z.string(), scores: z.record(z.string(), ScoreSchema) });
const MachineSchema = z.object({ node: z.string(), cpus: z.number(), comparisons: z.record(z.string(), ComparisonSchema) });
const FileSchema = z.object({ version: z.literal(1), machines: z.record(z.string(), MachineSchema) });
type QualityFile = z.infer<typeof FileSchema>;

export function qualityFilePath(dataDir: string): string {
  return path.join(dataDir, 'eval', 'quality.json');
}

function readFile(file: string): { content?: QualityFile; problem?: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    return { problem: `${file}: ${(error as Error).message}` };
  }
  try {
    const parsed = FileSchema.safeParse(JSON.parse(text));
    if (parsed.success) return { content: parsed.data };
    return {
      problem: `${file}: not the layout npm run eval writes (${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''})`,
    };
  } catch (error) {
    return { problem: `${file}: not JSON (${(error as Error).message})` };
  }
}

/**
 * This machine's measurements. Cheap (one small file), read at each choice so that a fresh `npm run eval`
 * counts without a restart. An unreadable file counts as no measurements, and says why.
 */
export function readMeasuredQuality(dataDir: string, machine = os.hostname()): MeasuredQuality {
  const { content, problem } = readFile(qualityFilePath(dataDir));
  return { comparisons: content?.machines[machine]?.comparisons ?? {}, ...(problem === undefined ? {} : { problem }) };
}

/**
 * Stores one eval run's comparisons for this machine. A comparison measured now replaces the stored one
 * whole (its ways were measured together, on the same inputs); the others are kept, so a run of one section
 * leaves the rest. Written to a temporary file and renamed, so a reader never sees half a file.
 */
export function storeMeasuredQuality(dataDir: string, comparisons: Record<string, MeasuredComparison>, machine = os.hostname()): string {
  const file = qualityFilePath(dataDir);
  const { content } = readFile(file);
  const stored: QualityFile = content ?? { version: 1, machines: {} };
  const previous = stored.machines[machine]?.comparisons ?? {};
  stored.machines[machine] = { node: process.version, cpus: os.cpus().length, comparisons: { ...previous, ...comparisons } };
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(stored, null, 2)}\n`);
  renameSync(temp, file);
  return file;
}

/** The scores of one comparison, by way name; empty when it was never measured here. */
export function scoresOf(measured: MeasuredQuality, comparison: string): ReadonlyMap<string, number> {
  const scores = measured.comparisons[comparison]?.scores ?? {};
  return new Map(Object.entries(scores).map(([way, score]) => [way, score.value]));
}
