// Worker threads do not inherit the TypeScript loader of the main thread (tsx or vitest), so a thread whose
// entry is TypeScript registers tsx itself before loading it; the build in dist/ (`npm start`) needs no loader.
import { workerData } from 'node:worker_threads';

if (workerData.entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
await import(workerData.entry);
