import { z } from 'zod';
import { HttpInputError } from './errors-to-http.ts';

/** Request shapes, checked once here; past this edge the handlers trust their input. */
export const MAX_TEXT_CHARS = 4000;

export const idParams = z.object({ id: z.string().min(1).max(200) });

export const newConversationBody = z.object({ title: z.string().trim().min(1).max(200).optional() }).strict();

export const jsonTurnBody = z.object({ text: z.string().max(MAX_TEXT_CHARS) }).strict();

export const actionBody = z
  .object({
    action: z.enum(['undo', 'redo', 'revert', 'use']),
    mediaId: z.string().min(1).max(200).optional(),
  })
  .strict()
  .refine((body) => body.action !== 'use' || body.mediaId !== undefined, {
    message: 'mediaId is required when action is "use"',
    path: ['mediaId'],
  });

/** The Retry button: the picture whose request runs again with the same seed; `longer` for a clip's Longer button. */
export const repeatBody = z.object({ mediaId: z.string().min(1).max(200), longer: z.boolean().optional() }).strict();

/** Previews are named by their content address; anything else is refused before the store is asked. */
export const previewParams = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits') });

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const where = issue.path.length > 0 ? issue.path.join('.') : 'body';
      return `${where}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses `value` or throws a 400 that names each wrong field, what was expected and what arrived. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new HttpInputError(400, 'INVALID_ARGUMENT', `Invalid ${what}: ${describeIssues(parsed.error)}`);
  }
  return parsed.data;
}
