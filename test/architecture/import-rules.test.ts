import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf, sourceFiles, type ImportEdge } from './imports.ts';

/**
 * The dependency rules of docs/architecture.md, checked on every import of the code (not on a picture of
 * it): a new import that runs the wrong way fails here with the file and the line to move.
 */

const VISION = 'src/vision';
/** Layers of src/vision from the top; a file may import only from layers below its own. */
const LAYERS = ['tasks', 'find', 'engines', 'models', 'ops'] as const;
/** The contract every layer speaks (types only): Specialist, SpecialistInput/Context/Result. */
const CONTRACT = `${VISION}/specialist.ts`;

/** The layer of a file under src/vision: 0 for the top (registry, readiness), then 1.. for LAYERS. */
function rankOf(file: string): number | undefined {
  if (!file.startsWith(`${VISION}/`) || file === CONTRACT) return undefined;
  const first = file.slice(VISION.length + 1).split('/')[0]!;
  const index = (LAYERS as readonly string[]).indexOf(first);
  return index === -1 ? 0 : index + 1;
}

function describeEdge(edge: ImportEdge): string {
  return `${edge.from} imports ${edge.specifier}`;
}

function visionProblem(edge: ImportEdge): string | undefined {
  const to = edge.to;
  if (to === undefined) return undefined;
  if (to === CONTRACT) return edge.typeOnly ? undefined : `${describeEdge(edge)} for more than types (the contract is types only)`;
  if (edge.from === CONTRACT) return edge.typeOnly ? undefined : `${describeEdge(edge)}: the contract may import types only`;
  const from = rankOf(edge.from);
  const target = rankOf(to);
  if (from === undefined || target === undefined) return undefined;
  if (target < from) return `${describeEdge(edge)}: runs up (${LAYERS[from - 1] ?? 'top'} → ${LAYERS[target - 1] ?? 'top'})`;
  if (target === from && path.dirname(edge.from) !== path.dirname(to)) return `${describeEdge(edge)}: runs sideways between folders of one layer`;
  return undefined;
}

/** Every circle of imports (strongly connected files, Tarjan), each as its files in order. */
function circles(next: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const to of next.get(file) ?? []) {
      if (!next.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(file, Math.min(low.get(file)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(file, Math.min(low.get(file)!, index.get(to)!));
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    for (let top = stack.pop()!; ; top = stack.pop()!) {
      onStack.delete(top);
      group.push(top);
      if (top === file) break;
    }
    if (group.length > 1) found.push(group.sort());
  };
  for (const file of next.keys()) if (!index.has(file)) visit(file);
  return found;
}

describe('dependency rules', () => {
  const visionFiles = sourceFiles(VISION);

  it('src/vision imports run tasks → find → engines → models → ops, never up or sideways; specialist.ts is types only', () => {
    const problems = visionFiles.flatMap((file) => importsOf(file).map(visionProblem)).filter((p) => p !== undefined);
    expect(problems).toEqual([]);
  });

  it('every file of src/vision belongs to a layer folder, except the top (registry, readiness) and the contract', () => {
    const loose = visionFiles.filter((f) => path.dirname(f) === VISION && ![CONTRACT, `${VISION}/registry.ts`, `${VISION}/readiness.ts`].includes(f));
    expect(loose).toEqual([]);
  });

  it('src/core imports nothing of the project outside src/core, and src/ never imports an adapter or a platform SDK', () => {
    const platform = /^(discord\.js|@discordjs\/|@slack\/|fastify|@fastify\/|@modelcontextprotocol\/)/;
    // src/main.ts is the composition root of `npm start`: it starts the adapters, so it may name them.
    const problems = sourceFiles('src')
      .filter((file) => file !== 'src/main.ts')
      .flatMap((file) =>
        importsOf(file)
          .filter((edge) => {
            if (edge.to?.startsWith('adapters/')) return true;
            if (edge.to === undefined && platform.test(edge.specifier)) return true;
            return file.startsWith('src/core/') && edge.to !== undefined && !edge.to.startsWith('src/core/');
          })
          .map(describeEdge),
      );
    expect(problems).toEqual([]);
  });

  it('no files import each other in a circle (imports of types only aside: they are erased at run time)', () => {
    const files = ['src', 'adapters', 'models', 'bench'].flatMap(sourceFiles);
    const next = new Map(
      files.map((file) => [
        file,
        importsOf(file)
          .filter((e) => !e.typeOnly && e.to !== undefined)
          .map((e) => e.to!),
      ]),
    );
    expect(circles(next)).toEqual([]);
  });

  it('the model catalog is data: models/catalog.ts imports nothing from src/', () => {
    const problems = importsOf('models/catalog.ts')
      .filter((edge) => edge.to?.startsWith('src/'))
      .map(describeEdge);
    expect(problems).toEqual([]);
  });

  it('the circle finder finds a circle (it can fail)', () => {
    const next = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(circles(next)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('the checker sees an import that runs up (it can fail)', () => {
    expect(visionProblem({ from: `${VISION}/ops/masks.ts`, specifier: '../models/opencv.ts', to: `${VISION}/models/opencv.ts`, typeOnly: false })).toMatch(
      /runs up/,
    );
    expect(
      visionProblem({ from: `${VISION}/tasks/edit/remove.ts`, specifier: '../segment/segment.ts', to: `${VISION}/tasks/segment/segment.ts`, typeOnly: false }),
    ).toMatch(/sideways/);
    expect(
      visionProblem({ from: `${VISION}/tasks/edit/remove.ts`, specifier: '../../find/detector.ts', to: `${VISION}/find/detector.ts`, typeOnly: false }),
    ).toBeUndefined();
  });
});
