import { describe, expect, it } from 'vitest';
import type { Detection } from '../../src/vision/ops/detection.ts';
import { intersectionOverUnion } from '../../src/vision/ops/nms.ts';
import { BoxTracker } from '../../src/vision/find/tracker.ts';

/** A 40 × 40 face box centred at (cx, cy). */
function face(cx: number, cy: number, score = 0.9): Detection {
  return { x1: cx - 20, y1: cy - 20, x2: cx + 20, y2: cy + 20, label: 'face', score };
}

const centreX = (d: Detection) => (d.x1 + d.x2) / 2;

describe('BoxTracker', () => {
  it('reports a new thing on its first detection (one hit is enough to be covered)', () => {
    const tracker = new BoxTracker();
    const tracks = tracker.update([face(100, 100)]);
    expect(tracks).toHaveLength(1);
    expect(tracks[0]!.trackId).toBe(1);
    expect(intersectionOverUnion(tracks[0]!, face(100, 100))).toBeGreaterThan(0.99);
  });

  it('keeps identities when two faces cross paths', () => {
    const tracker = new BoxTracker();
    let leftId: number | undefined;
    let rightId: number | undefined;
    for (let i = 0; i <= 20; i++) {
      // A moves right and B left, 10 px a frame; they meet at frame 10 and part again.
      const a = face(0 + i * 10, 100);
      const b = face(200 - i * 10, 104);
      const tracks = tracker.update([a, b]);
      expect(tracks).toHaveLength(2);
      const nearA = tracks.reduce((best, t) => (Math.abs(centreX(t) - centreX(a)) < Math.abs(centreX(best) - centreX(a)) ? t : best));
      const nearB = tracks.find((t) => t !== nearA)!;
      if (i === 0) {
        leftId = nearA.trackId;
        rightId = nearB.trackId;
      }
      // At the meeting frame both boxes are in the same place; before and after, each keeps its id.
      if (i !== 10) {
        expect(nearA.trackId, `frame ${i}`).toBe(leftId);
        expect(nearB.trackId, `frame ${i}`).toBe(rightId);
      }
    }
    expect(tracker.created).toBe(2);
  });

  it('bridges a frame where the detector blinks, with the box moved along its velocity', () => {
    const tracker = new BoxTracker();
    let id: number | undefined;
    for (let i = 0; i < 12; i++) {
      const truth = face(50 + i * 8, 100);
      const tracks = tracker.update(i === 8 ? [] : [truth]);
      expect(tracks, `frame ${i}`).toHaveLength(1);
      id ??= tracks[0]!.trackId;
      expect(tracks[0]!.trackId).toBe(id);
      // By frame 8 the velocity is learnt: the coasting box still sits on the face.
      if (i >= 6) expect(intersectionOverUnion(tracks[0]!, truth), `frame ${i}`).toBeGreaterThan(0.6);
    }
    expect(tracker.created).toBe(1);
  });

  it('does not let a new moving face trail behind its box while the speed is learnt', () => {
    const tracker = new BoxTracker();
    for (let i = 0; i < 6; i++) {
      const truth = face(100 + i * 15, 100);
      const [t] = tracker.update([truth]);
      expect(intersectionOverUnion(t!, truth), `frame ${i}`).toBeGreaterThan(0.9);
    }
  });

  it('follows a small box that moves more than its own width per frame', () => {
    const tracker = new BoxTracker();
    for (let i = 0; i < 10; i++) {
      // 40 px wide, 50 px a frame: consecutive boxes never overlap.
      const tracks = tracker.update([face(100 + i * 50, 100)]);
      expect(
        tracks.filter((t) => t.trackId === 1),
        `frame ${i}`,
      ).toHaveLength(1);
    }
    expect(tracker.created).toBe(1);
  });

  it('drops a track after maxMisses frames without a detection', () => {
    const tracker = new BoxTracker({ maxMisses: 3 });
    tracker.update([face(100, 100)]);
    expect(tracker.update([])).toHaveLength(1);
    expect(tracker.update([])).toHaveLength(1);
    expect(tracker.update([])).toHaveLength(1);
    expect(tracker.update([])).toHaveLength(0);
    // The same place seen again is a new track.
    expect(tracker.update([face(100, 100)])[0]!.trackId).toBe(2);
  });

  it('grows a coasting box, so an uncertain position is covered generously', () => {
    const tracker = new BoxTracker();
    const [seen] = tracker.update([face(100, 100)]);
    const [coasting] = tracker.update([]);
    expect(coasting!.x2 - coasting!.x1).toBeGreaterThan(seen!.x2 - seen!.x1);
  });

  it('does not count frames the detector skipped as misses', () => {
    const tracker = new BoxTracker({ maxMisses: 2 });
    tracker.update([face(100, 100)]);
    for (let i = 0; i < 10; i++) expect(tracker.coast()).toHaveLength(1);
    expect(tracker.update([face(100, 100)])[0]!.trackId).toBe(1);
  });

  it('smooths a jittering box', () => {
    const tracker = new BoxTracker();
    const jitter = [0, 6, -6, 5, -5, 6, -6, 4, -4, 6, -6, 5];
    const widths: number[] = [];
    const xs: number[] = [];
    for (const j of jitter) {
      const d: Detection = { x1: 80 + j, y1: 80, x2: 120 - j, y2: 120, label: 'face', score: 0.9 };
      const [t] = tracker.update([d]);
      widths.push(t!.x2 - t!.x1);
      xs.push(t!.x1);
    }
    const spread = (v: number[]) => Math.max(...v.slice(4)) - Math.min(...v.slice(4));
    // The input width swings by 24 px and its left edge by 12 px.
    expect(spread(widths)).toBeLessThan(12);
    expect(spread(xs)).toBeLessThan(6);
  });

  it('only matches boxes of the same label', () => {
    const tracker = new BoxTracker();
    tracker.update([face(100, 100)]);
    const tracks = tracker.update([{ ...face(100, 100), label: 'person' }]);
    expect(new Set(tracks.map((t) => t.trackId)).size).toBe(2);
  });
});
