/**
 * `npm run build` (run by `npm start` and `npm run worker`): the bot as JavaScript in dist/, so it starts without a
 * TypeScript loader. tsx's loader costs ≈34 MiB in the main thread and ≈13 MiB in each inference thread (it keeps
 * its compiled modules' source maps), measured on Node 20. tsc rewrites the relative `.ts` imports to `.js`; the
 * files the code reads beside itself (thread boot, WebAssembly, pages, workflows, migrations) are copied to the
 * same places under dist/. Nothing newer than the last build: nothing is done, so a start costs no compile.
 */
import { spawnSync } from 'node:child_process';
import { cp, readdir, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'dist');
const STAMP = path.join(OUT, '.tsbuildinfo');
const SOURCES = ['src', 'adapters', 'models', 'prisma/migrations', 'package.json', 'tsconfig.json', 'tsconfig.build.json'];

async function newestChange(entry: string): Promise<number> {
  const info = await stat(entry);
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = info.mtimeMs;
  for (const name of await readdir(entry)) newest = Math.max(newest, await newestChange(path.join(entry, name)));
  return newest;
}

const built = await stat(STAMP).then(
  (s) => s.mtimeMs,
  () => 0,
);
const changed = Math.max(...(await Promise.all(SOURCES.map((s) => newestChange(path.join(ROOT, s))))));
if (changed > built) {
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], {
    stdio: 'inherit',
  });
  // 2: type errors, but every file was written (the bot runs as tsx would have run it); anything else: nothing usable.
  if (tsc.status === 2) console.error('npm run build: tsc reported type errors (above); starting the build it wrote anyway.');
  else if (tsc.status !== 0) {
    console.error('npm run build: tsc failed (above); nothing was started.');
    process.exit(tsc.status ?? 1);
  }
  /** Everything but TypeScript sources: what the code opens by a path relative to its own file. */
  const isAsset = (source: string) => !/\.[mc]?ts$/.test(source);
  for (const dir of ['src', 'adapters', 'models', 'prisma/migrations']) {
    await cp(path.join(ROOT, dir), path.join(OUT, dir), { recursive: true, filter: isAsset });
  }
  // tsc leaves its stamp untouched when nothing it emits changed; the copy above is part of the build too.
  const now = new Date();
  await utimes(STAMP, now, now);
}
