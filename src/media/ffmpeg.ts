/**
 * The ffmpeg side of the media layer, in one import: finding the binaries, probing, raw frames in and
 * out through pipes, and ready video operations. Each piece lives in its own file under ./ffmpeg/.
 */
export { locateFfmpeg } from './ffmpeg/locate.ts';
export type { FfmpegTools, LocateOptions } from './ffmpeg/locate.ts';
export { runFfmpeg, runFfprobe } from './ffmpeg/run.ts';
export type { RunOptions } from './ffmpeg/run.ts';
export { probe, parseProbe } from './ffmpeg/probe.ts';
export type { VideoProbe } from './ffmpeg/probe.ts';
export { rawFrameBytes, readFrames, writeVideo } from './ffmpeg/frames.ts';
export type { FramePixelFormat, ReadFramesOptions, WriteVideoOptions } from './ffmpeg/frames.ts';
export { atempoChain, changeSpeed, conformClip, encodeMp4, extractFrame, MAX_SPEED, MIN_SPEED, reverse, toAnimated, trim } from './ffmpeg/operations.ts';
export type { AnimatedOptions, EncodeOptions, OperationOptions, ReverseOptions } from './ffmpeg/operations.ts';
