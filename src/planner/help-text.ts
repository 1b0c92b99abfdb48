import type { Task, TaskFamily } from '../core/tasks.ts';
import { TASK_FAMILIES, TASK_TABLE, tasksOf } from '../core/tasks.ts';

/**
 * The help text, built from the task table so that it can never list a task the bot lacks or miss
 * one it has. `helpSections()` is the structured form for UIs (the web playground renders it);
 * `helpText()` is the plain-text form for chat replies.
 */

export interface HelpEntry {
  task: Task;
  summary: string;
  example: string;
}

export interface HelpSection {
  family: TaskFamily;
  title: string;
  entries: HelpEntry[];
}

const TITLES: Record<TaskFamily, string> = {
  understand: 'Understand an image or video',
  segment: 'Select and cut out',
  generate: 'Create',
  edit: 'Edit',
  video: 'Video',
  session: 'Conversation',
};

export function helpSections(): HelpSection[] {
  return TASK_FAMILIES.map((family) => ({
    family,
    title: TITLES[family],
    entries: tasksOf(family).map((task) => ({ task, summary: TASK_TABLE[task].summary, example: TASK_TABLE[task].example })),
  }));
}

export function helpText(): string {
  const lines = ['Here is what I can do. Ask in your own words; you can chain steps with "and" or "then".', ''];
  for (const section of helpSections()) {
    lines.push(`${section.title}:`);
    for (const entry of section.entries) lines.push(`  • ${entry.summary} — e.g. "${entry.example}"`);
    lines.push('');
  }
  lines.push('Refer to media as "it", "the original", "the previous one", "the second image" or "the video".');
  lines.push(
    'Pictures I draw keep their seed: "again" makes the same one, "same seed but at night" changes the scene and keeps the layout, "new seed" draws a fresh one. Add "seed 42", "in 4 steps" or "no people" to a request as you like.',
  );
  lines.push('After a grid of pictures, "the second one" is its second picture: "upscale the second one", "vary the first one", or U2 / V3.');
  lines.push(
    'Point at one of several things with "the left dog", "the biggest car" or "the second person" (counted left to right); when I ask "which one?", answer with its number.',
  );
  return lines.join('\n');
}
