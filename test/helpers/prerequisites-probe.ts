/**
 * Not a test file of the suite (the name does not end in .test.ts): prerequisites.test.ts runs it in a
 * child vitest with VITRON_TESTDATA_DIR and VITRON_REQUIRE_PREREQUISITES set, to see it fail, skip or pass.
 */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { testdata } from './media-fixtures.ts';
import { requires } from './prerequisites.ts';

const photos = await requires('testdata');

photos.it('reads chelsea.png', async () => {
  expect(await readFile(testdata('chelsea.png'), 'utf8')).toBe('chelsea.png');
});

photos.describe('a group reading horse.png', () => {
  it('reads horse.png', async () => {
    expect(await readFile(testdata('horse.png'), 'utf8')).toBe('horse.png');
  });
});
