import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelEntry, ModelFile, ModelFileRole } from '../../../models/catalog.ts';

/**
 * Where a model's files are on this machine. Operator-placed files under MODELS_DIR/<model>/ win over
 * npm packages, so that an operator can swap in another export of the same model without a code change.
 */

export interface LocatedFile {
  file: ModelFile;
  /** Where the bytes come from, for messages and the CLI. */
  where: string;
  /** A real path when the file exists as one (onnxruntime can read it directly). */
  path?: string;
  read(): Promise<Buffer>;
}

export interface ModelLocation {
  entry: ModelEntry;
  files: LocatedFile[];
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Finds an installed npm package's root without going through its `exports` map (which may hide package.json). */
export function packageRoot(name: string, from: readonly string[] = [HERE, process.cwd()]): string | undefined {
  for (const start of from) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, 'node_modules', name);
      if (existsSync(path.join(candidate, 'package.json'))) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  return undefined;
}

interface ChunkedResource {
  chunks: { hash: string; offsets: [number, number] }[];
  size: number;
}

function readResourceIndex(distDir: string): Record<string, ChunkedResource> | undefined {
  const index = path.join(distDir, 'resources.json');
  if (!existsSync(index)) return undefined;
  return JSON.parse(readFileSync(index, 'utf8')) as Record<string, ChunkedResource>;
}

function fromModelsDir(entry: ModelEntry, modelsDir: string): LocatedFile[] | undefined {
  const dir = path.join(modelsDir, entry.name);
  const located: LocatedFile[] = [];
  for (const file of entry.files) {
    const p = path.join(dir, file.name);
    if (!existsSync(p)) return undefined;
    located.push({ file, where: p, path: p, read: () => readFile(p) });
  }
  return located;
}

function fromNpm(entry: ModelEntry, pkg: string): LocatedFile[] | undefined {
  const root = packageRoot(pkg);
  if (root === undefined) return undefined;
  const located: LocatedFile[] = [];
  for (const file of entry.files) {
    const p = path.join(root, file.sourcePath);
    if (!existsSync(p)) return undefined;
    located.push({ file, where: `${pkg}/${file.sourcePath}`, path: p, read: () => readFile(p) });
  }
  return located;
}

function fromNpmChunks(entry: ModelEntry, pkg: string): LocatedFile[] | undefined {
  const root = packageRoot(pkg);
  if (root === undefined) return undefined;
  const dist = path.join(root, 'dist');
  const index = readResourceIndex(dist);
  if (index === undefined) return undefined;
  const located: LocatedFile[] = [];
  for (const file of entry.files) {
    const resource = index[file.sourcePath];
    if (resource === undefined) return undefined;
    const chunkPaths = resource.chunks.map((c) => path.join(dist, c.hash));
    if (!chunkPaths.every((p) => existsSync(p))) return undefined;
    located.push({
      file,
      where: `${pkg}/dist (${file.sourcePath}, ${chunkPaths.length} chunks)`,
      read: async () => {
        // One allocation of the final size; each chunk is copied in at its recorded offset.
        const out = Buffer.allocUnsafe(resource.size);
        await Promise.all(
          resource.chunks.map(async (chunk, i) => {
            const bytes = await readFile(chunkPaths[i]!);
            bytes.copy(out, chunk.offsets[0]);
          }),
        );
        return out;
      },
    });
  }
  return located;
}

/** The model's files if every one of them is present, else undefined. Cheap: existence checks only. */
export function locateModel(entry: ModelEntry, modelsDir: string): ModelLocation | undefined {
  const own = fromModelsDir(entry, modelsDir);
  if (own !== undefined) return { entry, files: own };
  const source = entry.source;
  let files: LocatedFile[] | undefined;
  if (source.kind === 'npm') files = fromNpm(entry, source.package);
  else if (source.kind === 'npm-chunks') files = fromNpmChunks(entry, source.package);
  return files === undefined ? undefined : { entry, files };
}

export function fileWithRole(location: ModelLocation, role: ModelFileRole, name?: string): LocatedFile | undefined {
  return location.files.find((f) => f.file.role === role && (name === undefined || f.file.name === name));
}
