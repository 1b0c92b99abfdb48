import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSettings } from '../../src/config/settings.ts';
import { SettingsError } from '../../src/errors.ts';
import { qualityFilePath, readMeasuredQuality, scoresOf, storeMeasuredQuality } from '../../src/vision/models/measured-quality.ts';
import { rankWays } from '../../src/vision/models/model-choice.ts';

const ways = [
  { name: 'swin2sr-x2', pulled: true },
  { name: 'esrgan-slim-x2', pulled: false },
  { name: 'other-pulled', pulled: true },
  { name: 'weightless', pulled: false },
];
const evidence = (scores: Record<string, number>, prefer: string[] = []) => ({ scores: new Map(Object.entries(scores)), prefer });
const order = (scores: Record<string, number>, prefer: string[] = []) => rankWays(ways, evidence(scores, prefer)).map((r) => r.way.name);

describe('rankWays: model choice from measurements and PREFER_MODELS', () => {
  it('without measurements, npm ways come first in the given order and unmeasured pulled models last', () => {
    expect(order({})).toEqual(['esrgan-slim-x2', 'weightless', 'swin2sr-x2', 'other-pulled']);
  });

  it('measured ways come first, best score first, whatever the given order', () => {
    expect(order({ 'esrgan-slim-x2': 30, 'swin2sr-x2': 31 })).toEqual(['swin2sr-x2', 'esrgan-slim-x2', 'weightless', 'other-pulled']);
    expect(order({ 'esrgan-slim-x2': 30, 'swin2sr-x2': 29 })).toEqual(['esrgan-slim-x2', 'swin2sr-x2', 'weightless', 'other-pulled']);
    // A measured pulled model is ahead of an unmeasured npm way; ties keep the given order.
    expect(order({ 'other-pulled': 1, 'swin2sr-x2': 1 })).toEqual(['swin2sr-x2', 'other-pulled', 'esrgan-slim-x2', 'weightless']);
  });

  it('PREFER_MODELS puts the named ways first, in its order, before any measurement', () => {
    expect(order({ 'esrgan-slim-x2': 30 }, ['other-pulled', 'swin2sr-x2'])).toEqual(['other-pulled', 'swin2sr-x2', 'esrgan-slim-x2', 'weightless']);
    expect(rankWays(ways, evidence({ 'esrgan-slim-x2': 30 }, ['swin2sr-x2']))[0]).toEqual({ way: ways[0], standing: 'named in PREFER_MODELS' });
    expect(rankWays(ways, evidence({ 'esrgan-slim-x2': 30 }))[0]).toEqual({ way: ways[1], standing: 'measured', score: 30 });
  });
});

describe('measured quality file (DATA_DIR/eval/quality.json)', () => {
  it('stores per machine, replaces a re-measured comparison whole, keeps the others, and reads back', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-quality-'));
    try {
      const at = '2026-01-01T00:00:00.000Z';
      storeMeasuredQuality(dir, { a: { metric: 'm', scores: { x: { value: 1, measuredAt: at }, y: { value: 2, measuredAt: at } } } }, 'host-1');
      storeMeasuredQuality(dir, { b: { metric: 'n', scores: { z: { value: 3, measuredAt: at } } } }, 'host-1');
      storeMeasuredQuality(dir, { a: { metric: 'm', scores: { x: { value: 5, measuredAt: at } } } }, 'host-1');
      storeMeasuredQuality(dir, { a: { metric: 'm', scores: { y: { value: 9, measuredAt: at } } } }, 'host-2');
      const one = readMeasuredQuality(dir, 'host-1');
      expect([...scoresOf(one, 'a')]).toEqual([['x', 5]]);
      expect([...scoresOf(one, 'b')]).toEqual([['z', 3]]);
      expect([...scoresOf(readMeasuredQuality(dir, 'host-2'), 'a')]).toEqual([['y', 9]]);
      expect(readMeasuredQuality(dir, 'host-3').comparisons).toEqual({});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an absent file is no measurements; a damaged one too, with the reason', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'vitron-quality-'));
    try {
      expect(readMeasuredQuality(dir)).toEqual({ comparisons: {} });
      mkdirSync(path.dirname(qualityFilePath(dir)), { recursive: true });
      writeFileSync(
        qualityFilePath(dir),
        '{"version": 1, "machines": {"h": {"node": "v20", "cpus": 2, "comparisons": {"a": {"metric": "m", "scores": {"x": {"value": "high"}}}}}}}',
      );
      const read = readMeasuredQuality(dir, 'h');
      expect(read.comparisons).toEqual({});
      expect(read.problem).toMatch(/not the layout npm run eval writes/);
      writeFileSync(qualityFilePath(dir), '{');
      expect(readMeasuredQuality(dir, 'h').problem).toMatch(/not JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('PREFER_MODELS setting', () => {
  it('reads a comma list of catalog names, defaults to none, and stops start-up on an unknown name naming the setting', () => {
    expect(loadSettings({ PREFER_MODELS: 'swin2sr-x2, migan' }).PREFER_MODELS).toEqual(['swin2sr-x2', 'migan']);
    expect(loadSettings({}).PREFER_MODELS).toEqual([]);
    expect(() => loadSettings({ PREFER_MODELS: 'migan,swin3sr' })).toThrow(SettingsError);
    expect(() => loadSettings({ PREFER_MODELS: 'migan,swin3sr' })).toThrow(/PREFER_MODELS/);
  });
});
