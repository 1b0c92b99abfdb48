import type { Box } from '../../core/types.ts';
import { intersectionOverUnion } from '../ops/nms.ts';
import type { Detection } from '../ops/detection.ts';

/**
 * Keeps identities of boxes across video frames, built for covering things (faces to blur) rather than
 * for counting them:
 * - every detection that matches no track starts one at once (one hit is enough: an uncovered face is
 *   worse than a blurred patch of wall);
 * - a track that misses detections coasts on its velocity for `maxMisses` frames, growing a little each
 *   frame as it becomes less sure, so a detector that blinks for a frame never uncovers the face;
 * - matched boxes go through an alpha-beta filter: steady boxes stop jittering, and a box moving at a
 *   constant speed is followed without lag (the velocity term absorbs it).
 * Matching is greedy on IoU against each track's predicted box, best pair first (with a handful of boxes
 * per frame this equals the Hungarian assignment in practice); what is left is then paired by centre
 * distance in units of the track's size, nearest first.
 */

export interface TrackerOptions {
  /** Least overlap between a track's predicted box and a detection to call them the same thing. */
  minIou?: number;
  /**
   * For what overlaps nothing: a detection whose centre is within this many track sizes of a track's
   * predicted centre is still that track. A small face moving faster than its own width per frame
   * never overlaps its last box; without this it would become a new track every frame.
   */
  maxJump?: number;
  /** Frames a track survives without a detection before it is dropped. */
  maxMisses?: number;
  /** Weight of a new observation in the box position (alpha) and in the velocity (beta). */
  alpha?: number;
  beta?: number;
  /** Weight of a new observation in the box size; sizes jitter more than positions and change slowly. */
  sizeAlpha?: number;
  /** How much a coasting box grows per missed frame (fraction of its size). */
  coastGrowth?: number;
}

interface Track {
  id: number;
  label: string;
  score: number;
  cx: number;
  cy: number;
  w: number;
  h: number;
  /** Centre velocity in pixels per frame. */
  vx: number;
  vy: number;
  misses: number;
  /** Detections matched so far, the first included. */
  hits: number;
  /** Frames advanced since the last observation (coasting or frames the detector skipped). */
  since: number;
}

const DEFAULTS: Required<TrackerOptions> = { minIou: 0.1, maxJump: 1.5, maxMisses: 5, alpha: 0.6, beta: 0.3, sizeAlpha: 0.4, coastGrowth: 0.04 };

function boxOf(t: Track): Box {
  return { x1: t.cx - t.w / 2, y1: t.cy - t.h / 2, x2: t.cx + t.w / 2, y2: t.cy + t.h / 2 };
}

export class BoxTracker {
  private readonly options: Required<TrackerOptions>;
  private tracks: Track[] = [];
  private nextId = 1;

  constructor(options: TrackerOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
  }

  /** How many distinct tracks were ever started. */
  get created(): number {
    return this.nextId - 1;
  }

  /** A frame the detector ran on: match, update, start and end tracks; returns every live track's box. */
  update(detections: readonly Detection[]): Detection[] {
    this.advance();
    const pairs: { t: Track; d: number; iou: number }[] = [];
    for (const t of this.tracks) {
      const predicted = boxOf(t);
      detections.forEach((det, d) => {
        if (det.label !== t.label) return;
        const iou = intersectionOverUnion(predicted, det);
        if (iou >= this.options.minIou) pairs.push({ t, d, iou });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const matchedTracks = new Set<Track>();
    const matchedDetections = new Set<number>();
    const match = (t: Track, d: number) => {
      if (matchedTracks.has(t) || matchedDetections.has(d)) return;
      matchedTracks.add(t);
      matchedDetections.add(d);
      this.observe(t, detections[d]!);
    };
    for (const { t, d } of pairs) match(t, d);
    const jumps: { t: Track; d: number; distance: number }[] = [];
    for (const t of this.tracks) {
      if (matchedTracks.has(t)) continue;
      detections.forEach((det, d) => {
        if (matchedDetections.has(d) || det.label !== t.label) return;
        const distance = Math.hypot((det.x1 + det.x2) / 2 - t.cx, (det.y1 + det.y2) / 2 - t.cy) / Math.max(t.w, t.h, 1);
        if (distance <= this.options.maxJump) jumps.push({ t, d, distance });
      });
    }
    jumps.sort((a, b) => a.distance - b.distance);
    for (const { t, d } of jumps) match(t, d);
    for (const t of this.tracks) if (!matchedTracks.has(t)) this.miss(t);
    this.tracks = this.tracks.filter((t) => t.misses <= this.options.maxMisses);
    detections.forEach((det, d) => {
      if (!matchedDetections.has(d)) this.start(det);
    });
    return this.current();
  }

  /** A frame the detector skipped: every track moves on its velocity, and nobody counts a miss. */
  coast(): Detection[] {
    this.advance();
    return this.current();
  }

  private current(): Detection[] {
    return this.tracks.map((t) => ({ ...boxOf(t), label: t.label, score: t.score, trackId: t.id }));
  }

  /** Moves every track one frame along its velocity (the prediction the next detection is matched to). */
  private advance(): void {
    for (const t of this.tracks) {
      t.cx += t.vx;
      t.cy += t.vy;
      t.since += 1;
    }
  }

  private observe(t: Track, det: Detection): void {
    const { alpha, beta, sizeAlpha } = this.options;
    const ox = (det.x1 + det.x2) / 2;
    const oy = (det.y1 + det.y2) / 2;
    const rx = ox - t.cx;
    const ry = oy - t.cy;
    t.hits += 1;
    if (t.hits === 2) {
      // The second sighting is the first velocity measurement: take it whole, or a new face that moves
      // would trail behind its box for the frames the filter needs to learn the speed.
      t.vx = rx / Math.max(1, t.since);
      t.vy = ry / Math.max(1, t.since);
      t.cx = ox;
      t.cy = oy;
      t.w = det.x2 - det.x1;
      t.h = det.y2 - det.y1;
      t.score = det.score;
      t.misses = 0;
      t.since = 0;
      return;
    }
    t.cx += alpha * rx;
    t.cy += alpha * ry;
    // The residual accumulated over every frame since the last observation, not just this one.
    t.vx += (beta * rx) / Math.max(1, t.since);
    t.vy += (beta * ry) / Math.max(1, t.since);
    t.w += sizeAlpha * (det.x2 - det.x1 - t.w);
    t.h += sizeAlpha * (det.y2 - det.y1 - t.h);
    t.score = det.score;
    t.misses = 0;
    t.since = 0;
  }

  private miss(t: Track): void {
    t.misses += 1;
    t.w *= 1 + this.options.coastGrowth;
    t.h *= 1 + this.options.coastGrowth;
  }

  private start(det: Detection): void {
    this.tracks.push({
      id: this.nextId++,
      label: det.label,
      score: det.score,
      cx: (det.x1 + det.x2) / 2,
      cy: (det.y1 + det.y2) / 2,
      w: det.x2 - det.x1,
      h: det.y2 - det.y1,
      vx: 0,
      vy: 0,
      misses: 0,
      hits: 1,
      since: 0,
    });
  }
}
