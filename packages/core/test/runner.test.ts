import { describe, expect, it } from 'vitest';
import type { WrapperProcess } from '../src/plan.js';
import { spawnCommand, type SpawnRequest } from '../src/runner.js';

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

  it('holds a signal sent before the report was read until it is, so the strategy can find the command', async () => {
    const seen: (string | undefined)[] = [];
    const spawned = spawnCommand({
      // The report comes after the signal is asked for: a busy Node runs the handler first.
      argv: ['sh', '-c', 'head -c1 <&4 >/dev/null; printf "{\\"child-pid\\": 42}" >&3; exec 3>&-; sleep 0.2'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      cwd: '/',
      fds: ['report', 'start-gate'],
      stdio: ['ignore', 'ignore', 'ignore'],
      signal: (wrapper) => seen.push(wrapper.report),
      forwardSignals: false,
    });
    spawned.kill('SIGTERM');
    expect(seen).toEqual([]);
    spawned.release();
    await spawned.wrapper.reported;
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['{"child-pid": 42}']);
    expect(await spawned.exited).toBe(0);
  });

  it('has an empty report when the plan has no report descriptor', async () => {
    const spawned = spawnCommand({ argv: ['true'], env: {}, cwd: '/', fds: [], stdio: ['ignore', 'ignore', 'ignore'], forwardSignals: false });
    expect(spawned.wrapper.report).toBe('');
    expect(await spawned.wrapper.reported).toBe('');
    await spawned.exited;
  });
});

/** A terminal that records what was asked of it instead of touching a real one. */
function fakeTerminal() {
  const log: string[] = [];
  return { log, terminal: { makeRaw: (fd: number) => (log.push(`raw ${fd}`), () => void log.push(`restore ${fd}`)) } };
}

const request = (argv: string[], extra: Partial<SpawnRequest> = {}): SpawnRequest => ({
  argv,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  cwd: process.cwd(),
  fds: [],
  stdio: ['ignore', 'ignore', 'ignore'],
  forwardSignals: false,
  ...extra,
});

describe('spawnCommand on a terminal', () => {
  it('holds raw mode while the command runs and sets the mode back when it exits', async () => {
    const { log, terminal } = fakeTerminal();
    const spawned = spawnCommand(request(['sh', '-c', 'exit 4'], { terminal }));
    expect(log).toEqual(['raw 0']);
    expect(await spawned.exited).toBe(4);
    expect(log).toEqual(['raw 0', 'restore 0']);
  });

  it('sets the mode back when the command cannot start', async () => {
    const { log, terminal } = fakeTerminal();
    await expect(spawnCommand(request(['/no/such/program'], { terminal })).exited).rejects.toThrow(/ENOENT/);
    expect(log).toEqual(['raw 0', 'restore 0']);
  });

  it('sets the mode back when spawning throws at once', () => {
    const { log, terminal } = fakeTerminal();
    expect(() => spawnCommand(request(['sh', 'a\0b'], { terminal }))).toThrow(/null bytes/);
    expect(log).toEqual(['raw 0', 'restore 0']);
  });

  it('forwards SIGWINCH, and SIGTERM/SIGHUP but not SIGINT, only while the command runs', async () => {
    const before = (s: NodeJS.Signals) => process.listenerCount(s);
    const counts = { SIGINT: before('SIGINT'), SIGTERM: before('SIGTERM'), SIGHUP: before('SIGHUP'), SIGWINCH: before('SIGWINCH') };
    const spawned = spawnCommand(request(['sleep', '5'], { terminal: fakeTerminal().terminal, forwardSignals: true }));
    expect(process.listenerCount('SIGINT')).toBe(counts.SIGINT);
    expect(process.listenerCount('SIGTERM')).toBe(counts.SIGTERM + 1);
    expect(process.listenerCount('SIGHUP')).toBe(counts.SIGHUP + 1);
    expect(process.listenerCount('SIGWINCH')).toBe(counts.SIGWINCH + 1);
    spawned.kill('SIGKILL');
    expect(await spawned.exited).toBe(137);
    expect(process.listenerCount('SIGWINCH')).toBe(counts.SIGWINCH);
    expect(process.listenerCount('SIGTERM')).toBe(counts.SIGTERM);
  });
});
