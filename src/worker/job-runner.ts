import fs from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Settings } from '../config/settings.ts';
import type { JobProgress, MediaInfo } from '../core/types.ts';
import { InvalidArgumentError, JobCancelledError, UnsupportedMediaForTaskError } from '../errors.ts';
import type { BlobStore } from '../media/blob-store.ts';
import { probe, type FfmpegTools } from '../media/ffmpeg.ts';
import type { MediaLimits } from '../media/limits.ts';
import type { ClassifiableMedia, MediaClassifier } from '../safety/nsfw-classifier.ts';
import type { ModelRegistry } from '../vision/models/model-registry.ts';
import type { LoadedMedia, ProducedMedia, Specialist } from '../vision/specialist.ts';
import { acceptedKinds, type Task } from '../core/tasks.ts';
import type { JobOutcome, JobPayload, ProducedMediaRecord, StepOutcome, StepTarget } from '../core/job.ts';
import type { EngineFactories } from '../vision/engines/engine-choice.ts';

export interface JobRunnerDeps {
  settings: Settings;
  blobs: BlobStore;
  models: ModelRegistry;
  ffmpeg: FfmpegTools;
  limits: MediaLimits;
  specialistFor(task: Task): Specialist;
  /** Parent of the per-job scratch directories. */
  tmpRoot: string;
  /** How generation engines are made (engines/engines.ts in production). */
  engines?: EngineFactories;
  /** Safety: the NSFW classifier every produced picture and video goes through; absent when SAFETY=off. */
  classify?: MediaClassifier;
}

export interface RunControls {
  signal: AbortSignal;
  progress(progress: JobProgress): void;
}

/**
 * Runs the steps of one job in order, on whatever thread calls it (the inference thread in production,
 * the test's own thread in tests). Outputs go to the blob store; the caller records them as media.
 */
export async function runJob(payload: JobPayload, deps: JobRunnerDeps, controls: RunControls): Promise<JobOutcome> {
  const outcomes: StepOutcome[] = [];
  const steps = payload.steps.length;
  for (const [index, step] of payload.steps.entries()) {
    throwIfAborted(controls.signal);
    let last: JobProgress = { fraction: index / steps, step: index + 1, steps, note: '' };
    const report = (fraction: number, note: string) => {
      last = { fraction: Math.min(1, (index + Math.max(0, Math.min(1, fraction))) / steps), step: index + 1, steps, note };
      controls.progress(last);
    };
    // A preview rides on the latest progress report, by reference to the blob store, so it crosses threads,
    // BullMQ and processes as a few bytes of JSON.
    // Safety: a preview is posted like a result, so it is classified like one; a flagged one is dropped.
    // A preview still being classified when its step ends is dropped: the result is there, and a late
    // progress report would arrive after the job's end.
    let stepOpen = true;
    const preview = (image: Buffer) => {
      void (async () => {
        const verdict = deps.classify ? await deps.classify({ kind: 'image', bytes: image }, { signal: controls.signal }) : undefined;
        if (verdict?.flagged || !stepOpen) return;
        const { sha256 } = await deps.blobs.put(image);
        if (stepOpen && !controls.signal.aborted) controls.progress({ ...last, preview: { sha256, mime: isPng(image) ? 'image/png' : 'image/jpeg' } });
      })().catch(() => undefined);
    };
    const { targets: _, ...instruction } = step.invocation;
    const { task } = instruction;
    report(0, `starting ${task}`);

    const specialist = deps.specialistFor(task);
    const media = await Promise.all(step.targets.map((target) => loadTarget(target, outcomes, deps)));
    const accepted = acceptedKinds(task);
    for (const item of media) {
      if (!accepted.includes(item.info.kind)) throw new UnsupportedMediaForTaskError(task, item.info.kind, accepted);
    }

    const tmpDir = await fs.mkdtemp(path.join(deps.tmpRoot, `job-${payload.jobId.slice(0, 8)}-`));
    try {
      const result = await specialist.run(
        { ...instruction, media },
        {
          settings: deps.settings,
          models: deps.models,
          ffmpeg: deps.ffmpeg,
          limits: deps.limits,
          progress: report,
          signal: controls.signal,
          tmpDir,
          preview,
          ...(deps.engines ? { engines: deps.engines } : {}),
        },
      );
      throwIfAborted(controls.signal);
      const records: ProducedMediaRecord[] = [];
      for (const produced of result.media) records.push(await storeOutput(produced, deps, controls.signal));
      outcomes.push({ task, media: records, text: result.text, boxes: result.boxes, ...(result.choice ? { choice: result.choice } : {}) });
    } finally {
      stepOpen = false;
      await fs.rm(tmpDir, { recursive: true, force: true });
    }
    report(1, `${task} done`);
  }
  return { steps: outcomes };
}

function isPng(bytes: Buffer): boolean {
  return bytes.length > 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason ?? new JobCancelledError();
}

async function loadTarget(target: StepTarget, earlier: StepOutcome[], deps: JobRunnerDeps): Promise<LoadedMedia> {
  const info = 'media' in target ? target.media : resultOfStep(target.step, earlier);
  const [bytes, file] = await Promise.all([deps.blobs.get(info.sha256), deps.blobs.localPath(info.sha256)]);
  return { info, bytes, path: file };
}

function resultOfStep(step: number, earlier: StepOutcome[]): MediaInfo {
  const outcome = earlier[step];
  const result = outcome?.media.find((m) => m.role === 'result');
  if (!outcome || !result) {
    throw new InvalidArgumentError(`Step ${step + 1} produced no image or video to continue with, so the next step has nothing to work on.`);
  }
  return { id: `step:${step}`, ...result };
}

async function storeOutput(produced: ProducedMedia, deps: JobRunnerDeps, signal: AbortSignal): Promise<ProducedMediaRecord> {
  const { sha256, bytes } = await deps.blobs.put(produced.bytes);
  const base = {
    sha256,
    bytes,
    kind: produced.kind,
    mime: produced.mime,
    role: produced.role,
    label: produced.label,
    ...(produced.generation ? { generation: produced.generation } : {}),
  };
  if (produced.kind === 'image') {
    const meta = await sharp(produced.bytes).metadata();
    const safety = await classifyOutput(produced, deps, () => ({ kind: 'image', bytes: produced.bytes }), signal);
    return { ...base, width: meta.width ?? 0, height: meta.pageHeight ?? meta.height ?? 0, ...safety };
  }
  const file = await deps.blobs.localPath(sha256);
  const facts = await probe(deps.ffmpeg, file);
  const safety = await classifyOutput(produced, deps, () => ({ kind: 'video', file, durationSec: facts.durationSec }), signal);
  return {
    ...base,
    width: facts.width,
    height: facts.height,
    durationSec: facts.durationSec,
    fps: facts.fps,
    frameCount: facts.frameCount,
    hasAudio: facts.hasAudio,
    ...safety,
  };
}

/**
 * Safety: the verdict the adapters decide posting by. Masks are skipped: black-and-white shapes are never
 * posted as pictures of their own and would only cost classifier time.
 */
async function classifyOutput(
  produced: ProducedMedia,
  deps: JobRunnerDeps,
  media: () => ClassifiableMedia,
  signal: AbortSignal,
): Promise<Pick<ProducedMediaRecord, 'safety'>> {
  if (!deps.classify || produced.role === 'mask') return {};
  return { safety: await deps.classify(media(), { signal }) };
}
