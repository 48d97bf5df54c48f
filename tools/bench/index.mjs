// `npm run bench`: every figure as a ratio against a floor measured in the same run.
// `npm run bench -- startup` runs one section.
import { execBench } from './exec.mjs';
import { monitorBench } from './monitor.mjs';
import { networkBench } from './network.mjs';
import { runtimeBench } from './runtime.mjs';
import { startupBench } from './startup.mjs';

const only = process.argv[2];
const sections = { startup: startupBench, monitor: monitorBench, runtime: runtimeBench, exec: execBench, network: networkBench };
if (only && !sections[only]) {
  console.error(`bench: unknown section "${only}"; one of ${Object.keys(sections).join(', ')}`);
  process.exit(1);
}
for (const [name, run] of Object.entries(sections)) {
  if (!only || only === name) await run();
}
