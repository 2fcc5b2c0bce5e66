// Piscina entry of the order-history pool (gateway/http-api.ts). Worker threads on Node 20 do not inherit the
// main thread's TypeScript loader (and ignore `--import tsx` in execArgv), so this plain ES module registers
// tsx in the pool thread first and only then imports the TypeScript task: a static import would be resolved
// before register() runs. Piscina calls the default export.
import { register } from 'tsx/esm/api';

register();
const task = await import('./history-task.ts');
export default task.default;
