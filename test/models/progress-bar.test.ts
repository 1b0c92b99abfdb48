import { describe, expect, it } from 'vitest';
import { progressBar } from '../../models/progress.ts';

describe('progressBar', () => {
  const run = (isTTY: boolean): string => {
    let out = '';
    let clock = 0;
    const render = progressBar(
      {
        isTTY,
        write: (s) => {
          out += s;
        },
      },
      () => (clock += 1000),
    );
    render({ type: 'start', file: 'm.onnx', total: 1000, from: 0 });
    for (let received = 50; received <= 1000; received += 50) render({ type: 'data', file: 'm.onnx', received, total: 1000 });
    render({ type: 'end', file: 'm.onnx', outcome: 'downloaded', bytes: 1000, verified: 'OK' });
    return out;
  };

  it('prints a line every 10 % when stderr is not a terminal', () => {
    const lines = run(false).trimEnd().split('\n');
    expect(lines[0]).toBe('m.onnx: downloading (1.0 kB)');
    expect(lines.slice(1, -1).map((l) => /: (\d+)%/.exec(l)?.[1])).toEqual(['10', '20', '30', '40', '50', '60', '70', '80', '90', '100']);
    expect(lines.at(-1)).toBe('m.onnx: downloaded (1.0 kB, sha256 OK)');
    expect(run(false)).not.toContain('\r');
  });

  it('rewrites one line with percent, bytes and speed on a terminal', () => {
    const out = run(true);
    const frames = out.split('\r').filter((f) => f !== '');
    expect(frames.length).toBeGreaterThan(10);
    expect(frames.at(-1)).toMatch(/^m\.onnx {2}\[#{24}\] 100% {2}1\.0 kB \/ 1\.0 kB {2}\d+ B\/s/);
    expect(out.split('\n').filter((l) => l !== '')).toHaveLength(2);
  });
});
