import { promises as fs } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CATALOG } from '../../models/catalog.ts';
import { removeModel } from '../../models/pull.ts';
import { InvalidArgumentError } from '../../src/errors.ts';
import { exists, removeTmpDirs, tmpDir } from './pull-fixtures.ts';

// Directories last one test: removed after each.
afterEach(async () => {
  await removeTmpDirs();
});

describe('removeModel', () => {
  it('deletes only that model directory and refuses paths and unknown names', async () => {
    const modelsDir = await tmpDir();
    for (const name of ['migan', 'lama']) {
      await fs.mkdir(path.join(modelsDir, name), { recursive: true });
      await fs.writeFile(path.join(modelsDir, name, 'weights.onnx'), 'x');
    }
    const result = await removeModel('migan', CATALOG, modelsDir);
    expect(result.removed).toBe(true);
    expect(await exists(path.join(modelsDir, 'migan'))).toBe(false);
    expect(await exists(path.join(modelsDir, 'lama', 'weights.onnx'))).toBe(true);
    for (const bad of ['../x', 'a/b', '..', '/etc', 'no-such-model']) {
      await expect(removeModel(bad, CATALOG, modelsDir)).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(await exists(modelsDir)).toBe(true);
    await expect(removeModel('migan', CATALOG, modelsDir)).resolves.toMatchObject({ removed: false });
  });

  it('says an npm-shipped model cannot be removed', async () => {
    const modelsDir = await tmpDir();
    await expect(removeModel('ppocr-v4-det', CATALOG, modelsDir)).rejects.toThrow('uninstall the package instead');
  });
});
