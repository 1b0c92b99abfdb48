import { formatBytes } from '../src/media/limits.ts';
import type { PullEvent } from './pull.ts';

/** Download sizes in decimal units, as the hub states them. */
const decimal = (bytes: number) => formatBytes(bytes, 'decimal');

/**
 * Renders pull progress on stderr. On a terminal one line is rewritten in place; anywhere else (CI, a
 * log file, `docker logs`) a rewritten line would become thousands of lines, so it prints one line per
 * 10 % instead.
 */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const BAR_WIDTH = 24;
/** Redrawing on every network chunk would cost more than the download on a fast link. */
const REDRAW_MS = 100;
/** Without a known total there are no percents: a line per this many bytes instead. */
const UNKNOWN_TOTAL_STEP = 100e6;

export function progressBar(stream: ProgressStream, now: () => number = Date.now): (event: PullEvent) => void {
  let startedAt = 0;
  let from = 0;
  let lastDraw = 0;
  let lastStep = 0;
  let lineLength = 0;

  const speed = (received: number): string => {
    const seconds = (now() - startedAt) / 1000;
    return seconds > 0 ? `${decimal((received - from) / seconds)}/s` : '';
  };
  const percent = (received: number, total: number | undefined): number | undefined =>
    total === undefined || total === 0 ? undefined : Math.min(100, Math.floor((received / total) * 100));

  const step = (received: number, total: number | undefined): number => {
    const pct = percent(received, total);
    return pct === undefined ? Math.floor(received / UNKNOWN_TOTAL_STEP) : Math.floor(pct / 10);
  };

  return (event) => {
    switch (event.type) {
      case 'start': {
        startedAt = now();
        from = event.from;
        lastDraw = 0;
        // A resumed file starts past 0 %: lines begin at the next step it crosses.
        lastStep = step(event.from, event.total);
        lineLength = 0;
        const size = event.total === undefined ? 'size unknown' : decimal(event.total);
        const resume = event.from > 0 ? `, resuming at ${decimal(event.from)}` : '';
        if (!stream.isTTY) stream.write(`${event.file}: downloading (${size}${resume})\n`);
        return;
      }
      case 'data': {
        const pct = percent(event.received, event.total);
        if (stream.isTTY) {
          const t = now();
          if (t - lastDraw < REDRAW_MS && event.received !== event.total) return;
          lastDraw = t;
          const filled = pct === undefined ? 0 : Math.round((pct / 100) * BAR_WIDTH);
          const bar = pct === undefined ? '' : `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(pct).padStart(3)}%  `;
          const of = event.total === undefined ? '' : ` / ${decimal(event.total)}`;
          const line = `${event.file}  ${bar}${decimal(event.received)}${of}  ${speed(event.received)}`;
          // Pad over the previous, possibly longer, line so no stale characters remain.
          stream.write(`\r${line}${' '.repeat(Math.max(0, lineLength - line.length))}`);
          lineLength = line.length;
          return;
        }
        const reached = step(event.received, event.total);
        if (reached <= lastStep) return;
        lastStep = reached;
        const where =
          pct === undefined ? decimal(event.received) : `${pct}% (${decimal(event.received)}${event.total === undefined ? '' : ` of ${decimal(event.total)}`})`;
        stream.write(`${event.file}: ${where}  ${speed(event.received)}\n`);
        return;
      }
      case 'end': {
        if (stream.isTTY && lineLength > 0) stream.write('\n');
        stream.write(`${event.file}: ${event.outcome === 'present' ? 'already present' : event.outcome} (${decimal(event.bytes)}, sha256 ${event.verified})\n`);
        return;
      }
    }
  };
}
