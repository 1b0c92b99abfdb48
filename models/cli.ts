/**
 * `npm run models -- list` prints the catalog with what is installed here; `check` also verifies the size
 * and sha256 of every installed file that the catalog pins, and exits non-zero on a mismatch.
 * (`pull` — fetching Hugging Face weights into MODELS_DIR — comes in a later issue.)
 */
import { createHash } from 'node:crypto';
import { loadSettings } from '../src/config/settings.ts';
import { locateModel } from '../src/vision/model-files.ts';
import { CATALOG, howToGet } from './catalog.ts';
import type { ModelEntry } from './catalog.ts';

function size(bytes: number): string {
  return bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`;
}

function source(entry: ModelEntry): string {
  return entry.source.kind === 'huggingface' ? `hf:${entry.source.repo}@${entry.source.revision}` : `npm:${entry.source.package}`;
}

async function main(): Promise<number> {
  const command = process.argv[2] ?? 'list';
  const settings = loadSettings();
  if (command !== 'list' && command !== 'check') {
    console.error(`Unknown command "${command}". Use: list | check. (pull arrives in a later release.)`);
    return 2;
  }
  console.log(`MODELS_DIR=${settings.MODELS_DIR}  EXECUTION_PROVIDER=${settings.EXECUTION_PROVIDER}  threads=${settings.inferenceThreads}\n`);
  let bad = 0;
  for (const entry of CATALOG) {
    const location = locateModel(entry, settings.MODELS_DIR);
    const status = location ? 'installed' : 'missing';
    console.log(
      `${status === 'installed' ? '✔' : '·'} ${entry.name.padEnd(24)} ${entry.tasks.join(',').padEnd(34)} ${size(entry.approxBytes).padStart(9)}  ${entry.licence.padEnd(14)} ${source(entry)}${entry.gpu ? '  (GPU)' : ''}`,
    );
    if (command !== 'check') continue;
    if (!location) {
      console.log(`    ${howToGet(entry, settings.MODELS_DIR)}`);
      continue;
    }
    for (const file of location.files) {
      if (file.file.sha256 === undefined) {
        console.log(`    ${file.file.name}: present (no pinned hash) — ${file.where}`);
        continue;
      }
      const bytes = await file.read();
      const sha = createHash('sha256').update(bytes).digest('hex');
      const ok = sha === file.file.sha256 && (file.file.bytes === undefined || bytes.length === file.file.bytes);
      if (!ok) bad += 1;
      console.log(`    ${file.file.name}: ${ok ? 'sha256 OK' : `MISMATCH (sha256 ${sha}, ${bytes.length} bytes)`} — ${file.where}`);
    }
  }
  return bad === 0 ? 0 : 1;
}

process.exitCode = await main();
