import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);

describe('npm start', () => {
  it('stops with one line naming a wrong setting, before opening anything', async () => {
    const run = exec(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...process.env, PORT: 'eighty', DATA_DIR: '/nonexistent/never-created' } });
    const error = await run.then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(error?.code).toBe(1);
    expect(error?.stderr.trim()).toBe('Setting PORT: expected an integer from 0 to 65535, received "eighty"');
  });
});
