import { InvalidArgumentError, UnsupportedMediaForTaskError } from '../../../errors.ts';
import { changeSpeed, extractFrame, probe, reverse, toAnimated, trim } from '../../../media/ffmpeg.ts';
import type { OperationOptions } from '../../../media/ffmpeg.ts';
import { formatDuration } from '../../../media/limits.ts';
import type { Task } from '../../../core/tasks.ts';
import { checkArgs, choiceArg, describeValue, numberArg, secondsNumberArg, type ArgName } from '../../ops/args.ts';
import type { LoadedMedia, Specialist, SpecialistContext, SpecialistInput, SpecialistResult } from '../../specialist.ts';

/** Seconds as a number or a numeric string in the task table's range, or "m:ss" / "h:mm:ss" (how people write times in chat). */
export function parseSeconds<T extends Task>(task: T, args: Record<string, unknown>, name: ArgName<T>): number | undefined {
  const value = args[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && /^\d+(:\d{1,2}){1,2}(\.\d+)?$/.test(value.trim())) {
    return value
      .trim()
      .split(':')
      .reduce((acc, part) => acc * 60 + Number(part), 0);
  }
  const n = secondsNumberArg(task, args, name);
  if (n === undefined) throw new InvalidArgumentError(`Expected seconds for ${name} but received ${describeValue(value)}.`, { arg: name });
  return n;
}

function video(input: SpecialistInput): LoadedMedia {
  const media = input.media[0];
  if (media === undefined || media.info.kind !== 'video') throw new UnsupportedMediaForTaskError(input.task, media?.info.kind ?? 'nothing', ['video']);
  return media;
}

function options(context: SpecialistContext, note: string): OperationOptions {
  return { tmpDir: context.tmpDir, signal: context.signal, onProgress: (f) => context.progress(f, note) };
}

async function durationOf(media: LoadedMedia, context: SpecialistContext): Promise<number | undefined> {
  return media.info.durationSec ?? (await probe(context.ffmpeg, media.path, { signal: context.signal })).durationSec;
}

function mp4(bytes: Buffer, label: string, text: string): SpecialistResult {
  return { text, media: [{ bytes, kind: 'video', mime: 'video/mp4', role: 'result', label }] };
}

export const trimSpecialist: Specialist = {
  tasks: ['trim'],
  models: [],
  async run(input, context) {
    const media = video(input);
    checkArgs('trim', input.args);
    const from = parseSeconds('trim', input.args, 'start') ?? 0;
    const to = parseSeconds('trim', input.args, 'end');
    if (to === undefined && input.args.start === undefined) throw new InvalidArgumentError('trim needs a start or an end time, in seconds.');
    // A negative time counts back from the end ("cut the last 3 seconds" is end -3): that needs the length.
    const duration = from < 0 || to === undefined || to < 0 ? await durationOf(media, context) : media.info.durationSec;
    if ((from < 0 || (to !== undefined && to < 0)) && duration === undefined) {
      throw new InvalidArgumentError("This video's length is unknown, so a time counted from its end cannot be found; give times from the start instead.");
    }
    const fromEnd = (t: number) => (t < 0 ? Math.max(0, duration! + t) : t);
    const start = fromEnd(from);
    const end = to === undefined ? (duration ?? start + 24 * 3600) : fromEnd(to);
    const bytes = await trim(context.ffmpeg, media.path, start, end, options(context, 'trimming'));
    const shownEnd = duration !== undefined ? Math.min(end, duration) : end;
    return mp4(bytes, 'trimmed', `Trimmed to ${formatDuration(start)} – ${formatDuration(shownEnd)}.`);
  },
};

export const speedSpecialist: Specialist = {
  tasks: ['speed'],
  models: [],
  async run(input, context) {
    const media = video(input);
    checkArgs('speed', input.args);
    const factor = numberArg('speed', input.args, 'factor');
    if (factor === undefined) throw new InvalidArgumentError('speed needs a factor: 2 is twice as fast, 0.5 half speed.', { arg: 'factor' });
    const bytes = await changeSpeed(context.ffmpeg, media.path, factor, options(context, 'changing speed'));
    return mp4(bytes, `${factor}× speed`, factor >= 1 ? `Sped up ${factor}×.` : `Slowed down to ${factor}× speed.`);
  },
};

export const reverseSpecialist: Specialist = {
  tasks: ['reverse'],
  models: [],
  async run(input, context) {
    const media = video(input);
    checkArgs('reverse', input.args);
    const bytes = await reverse(context.ffmpeg, media.path, options(context, 'reversing'));
    return mp4(bytes, 'reversed', 'Reversed: it now plays backwards, sound included.');
  },
};

export const toGifSpecialist: Specialist = {
  tasks: ['to_gif'],
  models: [],
  async run(input, context) {
    const media = video(input);
    checkArgs('to_gif', input.args);
    const format = choiceArg('to_gif', input.args, 'format') ?? 'gif';
    const bytes = await toAnimated(context.ffmpeg, media.path, format, options(context, `making a ${format.toUpperCase()}`));
    return {
      text: `Made an animated ${format.toUpperCase()} (${(bytes.length / 1024 / 1024).toFixed(1)} MiB, no sound).`,
      media: [{ bytes, kind: 'image', mime: format === 'gif' ? 'image/gif' : 'image/webp', role: 'result', label: `animated ${format}` }],
    };
  },
};

export const extractFrameSpecialist: Specialist = {
  tasks: ['extract_frame'],
  models: [],
  async run(input, context) {
    const media = video(input);
    checkArgs('extract_frame', input.args);
    const which = choiceArg('extract_frame', input.args, 'which');
    let at = parseSeconds('extract_frame', input.args, 'at');
    if (at !== undefined && which !== undefined)
      throw new InvalidArgumentError('Give either at (seconds) or which (first, last, middle) for extract_frame, not both.');
    if (at === undefined) {
      if (which === 'last' || which === 'middle') {
        const duration = await durationOf(media, context);
        if (duration === undefined)
          throw new InvalidArgumentError(`This video's length is unknown, so its ${which} frame cannot be found; give a time instead.`);
        // extractFrame clamps a time at the very end to the last frame's span.
        at = which === 'last' ? duration : duration / 2;
      } else {
        at = 0;
      }
    }
    const png = await extractFrame(context.ffmpeg, media.path, at, options(context, 'extracting a frame'));
    const where = which ?? `at ${formatDuration(at)}`;
    return {
      text: `The ${which ? `${which} frame` : `frame ${where}`}.`,
      media: [{ bytes: png, kind: 'image', mime: 'image/png', role: 'result', label: which ? `${which} frame` : `frame at ${formatDuration(at)}` }],
    };
  },
};
