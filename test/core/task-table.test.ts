import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../models/catalog.ts';
import { LANES, TASKS, TASK_FAMILIES, TASK_TABLE, acceptedKinds, isSessionTask, type ArgSpec, type Task } from '../../src/core/tasks.ts';
import { specialistFor } from '../../src/vision/registry.ts';
import { ROOT, sourceFiles } from '../architecture/imports.ts';

const TASK_NAMES = new Set<string>(TASKS);
const KINDS: readonly ArgSpec['kind'][] = ['text', 'number', 'flag', 'choice', 'seconds', 'box', 'points', 'color', 'aspect', 'crop', 'resize'];

describe('the task table', () => {
  it.each(TASKS)('has a complete row for %s', (task) => {
    const row = TASK_TABLE[task];
    expect(TASK_FAMILIES).toContain(row.family);
    expect(row.summary.trim()).not.toBe('');
    expect(row.example.trim()).not.toBe('');
    expect(['none', 'image', 'video', 'media']).toContain(row.target);
    expect(['none', 'same', 'image', 'video']).toContain(row.output);
    expect(LANES).toContain(row.lane);
    for (const [name, spec] of Object.entries(row.args) as [string, ArgSpec][]) {
      expect(KINDS, `${task}.${name}`).toContain(spec.kind);
      expect(spec.about.trim(), `${task}.${name}`).not.toBe('');
      if (spec.kind === 'number' || spec.kind === 'seconds') expect(spec.min, `${task}.${name}`).toBeLessThanOrEqual(spec.max);
      if (spec.kind === 'number' && spec.values) for (const v of spec.values) expect(v >= spec.min && v <= spec.max, `${task}.${name} ${v}`).toBe(true);
      if (spec.kind === 'choice') expect(spec.choices.length, `${task}.${name}`).toBeGreaterThan(0);
    }
    const rules: readonly { of: readonly string[] }[] = 'rules' in row ? row.rules : [];
    for (const rule of rules) for (const name of rule.of) expect(Object.keys(row.args), `${task} rule names ${name}`).toContain(name);
  });

  it('puts every task that works on or makes a video in the video lane, and asks no media of session tasks', () => {
    for (const task of TASKS) {
      const row = TASK_TABLE[task];
      if (row.target === 'video' || row.output === 'video') expect(row.lane, task).toBe('video');
      if (isSessionTask(task)) expect([row.target, row.output], task).toEqual(['none', 'none']);
      if (row.target === 'none') expect(acceptedKinds(task), task).toEqual([]);
    }
  });

  it('names only preferred models that are in the catalog and serve the task', () => {
    for (const task of TASKS) {
      const preferred = TASK_TABLE[task] as { preferredModel?: string };
      if (preferred.preferredModel === undefined) continue;
      const entry = CATALOG.find((e) => e.name === preferred.preferredModel);
      expect(entry, `${task} → ${preferred.preferredModel}`).toBeDefined();
      expect(entry!.tasks, `${task} → ${preferred.preferredModel}`).toContain(task);
    }
  });

  it('is what the catalog speaks of: every task a catalog model lists is a task of the table', () => {
    const unknown = CATALOG.flatMap((entry) => entry.tasks.filter((t) => !TASK_NAMES.has(t)).map((t) => `${entry.name}: ${t}`));
    expect(unknown).toEqual([]);
  });

  it('has a specialist registered for every task but the session ones', () => {
    const missing = TASKS.filter((task) => !isSessionTask(task) && specialistFor(task as Task) === undefined);
    expect(missing).toEqual([]);
  });
});

/**
 * A list of tasks written outside the table: an array literal with two or more task names, or an object
 * literal keyed mostly by them. A specialist's `tasks: [...]` (its registration) is allowed.
 */
function hardCodedTaskLists(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const nameOf = (node: ts.Node): string | undefined =>
    ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? node.text : ts.isIdentifier(node) ? node.text : undefined;
  const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
  const visit = (node: ts.Node) => {
    if (ts.isArrayLiteralExpression(node)) {
      const names = node.elements.filter((e) => (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && TASK_NAMES.has(e.text));
      const registration = ts.isPropertyAssignment(node.parent) && nameOf(node.parent.name) === 'tasks';
      if (names.length >= 2 && !registration) found.push(`${where(node)} lists ${names.map((n) => (n as ts.StringLiteral).text).join(', ')}`);
    } else if (ts.isObjectLiteralExpression(node)) {
      const all = node.properties.map((p) => (p.name ? nameOf(p.name) : undefined));
      const keys = all.filter((k): k is string => k !== undefined && TASK_NAMES.has(k));
      // Family titles share two names with tasks (segment, edit): a table of tasks is keyed mostly by tasks.
      if (keys.length >= 2 && keys.length * 2 >= all.length) found.push(`${where(node)} is keyed by ${keys.join(', ')}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('task lists outside the table', () => {
  // Adapters are left out: their button ids and slash sub-commands (undo, upscale, cancel…) are the platform's
  // vocabulary, which they turn into turns in words; the facts of a task never live there.
  it('no module of src/ or models/ but src/core/tasks.ts writes a list of tasks', () => {
    const files = [...sourceFiles('src'), ...sourceFiles('models')].filter((f) => f !== 'src/core/tasks.ts');
    expect(files.flatMap(hardCodedTaskLists)).toEqual([]);
  });

  it('the scan finds a list when there is one (it can fail)', () => {
    const probe = path.join('test', 'core', `.probe-${process.pid}.ts`);
    fs.writeFileSync(
      path.join(ROOT, probe),
      "export const VIDEO_TASKS = new Set(['trim', 'speed']);\nexport const VERBS = { trim: 'Trimming', speed: 'Changing the speed' };\n",
    );
    try {
      expect(hardCodedTaskLists(probe)).toHaveLength(2);
    } finally {
      fs.rmSync(path.join(ROOT, probe));
    }
  });
});
