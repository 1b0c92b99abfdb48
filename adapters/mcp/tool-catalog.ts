import { z } from 'zod';
import { TASKS, factsOf, isSessionTask, type Task } from '../../src/core/tasks.ts';
import { argSchema } from '../../src/planner/plan-schema.ts';

/**
 * The MCP tools, made from the task table rather than written one by one: every task that runs work, plus the
 * session steps an agent needs to walk the lineage (undo, redo, revert). A tool's arguments are its task's
 * arguments with their types, ranges and meanings, plus the media it works on.
 */

/** Session tasks offered as tools; help and cancel are the client's own business (tools/list, cancellation). */
const SESSION_TOOLS: readonly Task[] = ['undo', 'redo', 'revert'];

/**
 * Tasks whose second target is a mask (white where to work): a picture and its mask in one call. Remove takes
 * one too, but the plan contract requires its phrase; inpaint is the tool for "fill this masked region".
 */
const TAKES_MASK: readonly Task[] = ['inpaint'];

export const MEDIA_INPUT_ABOUT =
  'The image or video to work on: an id returned by an earlier call of this session, a reference ("current" = the latest result, "image:2", "video:last", "original"), an https URL on a host the operator allows, a data: URL, or {"data": base64, "mimeType"}. Default: "current".';

export const MediaInputSchema = z.union([
  z.string().trim().min(1),
  z.strictObject({
    data: z.string().min(1).describe('the file, base64-encoded'),
    mimeType: z.string().optional().describe('its type, e.g. image/png (the bytes decide; this is only shown back)'),
    name: z.string().optional().describe('a file name to show back'),
  }),
]);
export type MediaInput = z.infer<typeof MediaInputSchema>;

export interface ToolDefinition {
  name: string;
  task: Task;
  title: string;
  description: string;
  inputSchema: z.ZodObject;
  /** The input fields that carry media, in target order ("media", then "mask"). */
  mediaFields: readonly ('media' | 'mask')[];
}

function worksOn(task: Task): string {
  switch (factsOf(task).target) {
    case 'none':
      return 'Needs no input media.';
    case 'image':
      return 'Works on an image.';
    case 'video':
      return 'Works on a video.';
    case 'media':
      return 'Works on an image or a video.';
  }
}

function toolFor(task: Task): ToolDefinition {
  const facts = factsOf(task);
  const session = isSessionTask(task);
  const mediaFields: ('media' | 'mask')[] = session || facts.target === 'none' ? [] : TAKES_MASK.includes(task) ? ['media', 'mask'] : ['media'];
  const shape: Record<string, z.ZodType> = {};
  if (mediaFields.includes('media')) shape.media = MediaInputSchema.optional().describe(MEDIA_INPUT_ABOUT);
  if (mediaFields.includes('mask'))
    shape.mask = MediaInputSchema.optional().describe('A mask of the region (white where to work), given like media; instead of or with a phrase.');
  for (const [name, spec] of Object.entries(facts.args)) {
    const schema = argSchema(spec).describe(spec.about);
    shape[name] = spec.required ? schema : schema.optional();
  }
  const description = session
    ? `${capitalise(facts.summary)} in this session's history; the current media becomes the one before (or after). Same as saying "${facts.example}".`
    : `${capitalise(facts.summary)}. ${worksOn(task)} Same as asking "${facts.example}". Results are media of this session: pass their ids to the next call.`;
  return { name: task, task, title: capitalise(facts.summary), description, inputSchema: z.strictObject(shape), mediaFields };
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export const TOOLS: readonly ToolDefinition[] = TASKS.filter((task) => !isSessionTask(task) || SESSION_TOOLS.includes(task)).map(toolFor);
