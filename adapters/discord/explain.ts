import type { Logger } from 'pino';
import { VitronError } from '../../src/errors.ts';

/** The sentence a user sees for a failure: ours for a VitronError, a generic apology (and a log line) otherwise. */
export function explain(context: { readonly logger: Logger }, error: unknown): string {
  if (error instanceof VitronError) return error.message;
  context.logger.error({ err: error }, 'unexpected error');
  return 'Something went wrong on my side; please try again.';
}
