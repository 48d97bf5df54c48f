// The cost of command.runtimeExecPolicy "argv" per exec: every execve in the sandbox waits for the
// seccomp supervisor and the command layer's verdict. A loop of 500 execs, fenced in "path" mode
// (the default: no supervisor) and in "argv" mode; the difference over 500 is the cost of one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fmt, timeCommand } from './timing.mjs';

const FENCE = resolve(import.meta.dirname, '../../packages/cli/bin/fence');
const EXECS = 500;

export async function execBench() {
  console.log('\n## Exec policy (command.runtimeExecPolicy)');
  const dir = mkdtempSync(join(tmpdir(), 'fence-bench-exec-'));
  const settings = (mode) => {
    const file = join(dir, `${mode}.json`);
    writeFileSync(file, JSON.stringify({ command: { deny: ['git push'], runtimeExecPolicy: mode } }));
    return file;
  };
  const loop = ['sh', '-c', `i=0; while [ $i -lt ${EXECS} ]; do /bin/true; i=$((i+1)); done`];
  const bare = timeCommand(loop, { runs: 5, warmup: 1 });
  const path = timeCommand([FENCE, '-s', settings('path'), '--', ...loop], { runs: 5, warmup: 1 });
  const argv = timeCommand([FENCE, '-s', settings('argv'), '--', ...loop], { runs: 5, warmup: 1 });
  rmSync(dir, { recursive: true, force: true });
  console.log(`${EXECS} execs: bare ${fmt(bare)}; fenced "path" ${fmt(path)}; fenced "argv" ${fmt(argv)}`);
  const perExec = (argv.median - path.median) / EXECS;
  const bareExec = bare.median / EXECS;
  console.log(`"argv" cost per exec: ${(perExec * 1000).toFixed(0)} µs (a bare exec here: ${(bareExec * 1000).toFixed(0)} µs, ratio ${((bareExec + perExec) / bareExec).toFixed(2)}×)`);
}
