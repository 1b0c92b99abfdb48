import path from 'node:path';

/**
 * `.ts` when the calling module runs from its TypeScript source (tests, tsx), `.js` when it runs from the build in
 * dist/ (`npm start`): a thread's entry file is named with the same extension as the module that starts it.
 */
export function sourceExtension(moduleUrl: string): '.ts' | '.js' {
  return path.extname(new URL(moduleUrl).pathname) === '.ts' ? '.ts' : '.js';
}
