import { describe, expect, it } from 'vitest';
import { DURATION_SOURCE, parseDuration, parseFactor, parseNumber, parsePercent } from '../../src/planner/numbers.ts';

describe('parseNumber', () => {
  it.each([
    ['5', 5],
    ['2.5', 2.5],
    ['.5', 0.5],
    ['five', 5],
    ['Twelve', 12],
    ['twenty', 20],
    ['twenty-five', 25],
    ['ninety nine', 99],
    ['half', 0.5],
    ['a quarter', 0.25],
    ['one and a half', 1.5],
    ['two and a half', 2.5],
    ['a', 1],
  ])('%s → %s', (text, value) => expect(parseNumber(text)).toBe(value));

  it.each(['', 'someone', 'twenty-ten', 'many', 'five apples'])('%j is not a number', (text) => expect(parseNumber(text)).toBeUndefined());
});

describe('parseFactor', () => {
  it.each([
    ['2x', 2],
    ['x3', 3],
    ['1.5x', 1.5],
    ['twice', 2],
    ['double', 2],
    ['triple', 3],
    ['half', 0.5],
    ['three times', 3],
    ['4 times', 4],
  ])('%s → %s', (text, value) => expect(parseFactor(text)).toBe(value));
});

describe('parsePercent', () => {
  it.each([
    ['20%', 20],
    ['20 %', 20],
    ['twenty percent', 20],
    ['50 per cent', 50],
  ])('%s → %s', (text, value) => expect(parsePercent(text)).toBe(value));
  it('rejects a number without a percent sign', () => expect(parsePercent('20')).toBeUndefined());
});

describe('parseDuration', () => {
  it.each([
    ['5 seconds', 5],
    ['5s', 5],
    ['5 sec', 5],
    ['5-second', 5],
    ['1.5 min', 90],
    ['0:05', 5],
    ['1:30', 90],
    ['1:02:03', 3723],
    ['1m30s', 90],
    ['1m 30s', 90],
    ['1 minute and 30 seconds', 90],
    ['a minute and a half', 90],
    ['half a second', 0.5],
    ['two seconds', 2],
    ['a second', 1],
    ['2 hours', 7200],
    ['250ms', 0.25],
  ])('%s → %s s', (text, seconds) => expect(parseDuration(text)).toBe(seconds));

  it.each(['5', 'five', 'seconds', 'as', '12:345'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());

  it('finds durations inside sentences without reading words as units', () => {
    const find = (text: string) => text.match(new RegExp(DURATION_SOURCE, 'gi'));
    expect(find('first 5 seconds only')).toEqual(['5 seconds']);
    expect(find('from 0:05 to 0:12')).toEqual(['0:05', '0:12']);
    expect(find('trim 1m30s in')).toEqual(['1m30s']);
    expect(find('save as gif')).toBeNull();
    expect(find('someone in 5 secs')).toEqual(['5 secs']);
  });
});
