// Worker threads do not inherit the TypeScript loader of the main thread (tsx or vitest), so each
// inference thread registers tsx itself before loading its real entry point.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.entry);
