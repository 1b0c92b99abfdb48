import fs from 'node:fs/promises';
import { StoreInUseError } from '../errors.ts';

/**
 * PGlite takes no lock of its own: a second process on the same directory opens it and writes, and the data
 * is lost. A lock file next to the directory (`<dir>.lock`, holding the owner's pid) stops the second process at
 * start-up; a lock left by a process that no longer runs is taken over. Returns the release function.
 */
export async function lockDirectory(dir: string): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await fs.open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        // Only our own lock is removed: a later owner's survives a late release.
        if ((await readOwner(file)) === process.pid) await fs.rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(file);
    // The same process may open its directory again (tests reopen a closed store); other live processes may not.
    if (owner !== undefined && owner !== process.pid && isRunning(owner)) throw new StoreInUseError(dir, owner);
    await fs.rm(file, { force: true });
  }
  throw new StoreInUseError(dir, (await readOwner(file)) ?? 0);
}

async function readOwner(file: string): Promise<number | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => '');
  const pid = Number.parseInt(text, 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
