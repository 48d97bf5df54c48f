import { describe, expect, it } from 'vitest';
import type { WrapperProcess } from '../src/plan.js';
import { spawnCommand } from '../src/runner.js';

describe('spawnCommand', () => {
  it('reads a report descriptor to its end and hands it to the signal strategy', async () => {
    const seen: [WrapperProcess, NodeJS.Signals][] = [];
    const spawned = spawnCommand({
      argv: ['sh', '-c', 'printf "{\\"child-pid\\": 42}" >&3; exec 3>&-; head -c1 <&4 >/dev/null'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cwd: '/',
      fds: ['report', 'start-gate'],
      stdio: ['ignore', 'ignore', 'ignore'],
      signal: (wrapper, signal) => seen.push([wrapper, signal]),
      forwardSignals: false,
    });
    expect(await spawned.wrapper.reported).toBe('{"child-pid": 42}');
    expect(spawned.wrapper.report).toBe('{"child-pid": 42}');
    spawned.kill('SIGKILL');
    expect(seen.map(([w, s]) => [w.pid, w.report, s])).toEqual([[spawned.child.pid, '{"child-pid": 42}', 'SIGKILL']]);
    spawned.release();
    expect(await spawned.exited).toBe(0);
  });

  it('has an empty report when the plan has no report descriptor', async () => {
    const spawned = spawnCommand({ argv: ['true'], env: {}, cwd: '/', fds: [], stdio: ['ignore', 'ignore', 'ignore'], forwardSignals: false });
    expect(spawned.wrapper.report).toBe('');
    expect(await spawned.wrapper.reported).toBe('');
    await spawned.exited;
  });
});
