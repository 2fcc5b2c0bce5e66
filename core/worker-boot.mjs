// Worker threads on Node 20 do not inherit the TypeScript loader of the main thread (and ignore
// `--import tsx` in execArgv), so each worker registers it before importing its TypeScript entry.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);
