import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';
import { EXPLAIN, NODE, warm } from '../src/plan-cache.js';

/** Whether the process `pid` (fence) has a bwrap child yet. */
const startedBwrap = (pid: number): boolean => {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    return children.some((c) => readFileSync(`/proc/${c}/comm`, 'utf8').trim() === 'bwrap');
  } catch {
    return false;
  }
};

const until = async (what: () => boolean, ms = 5000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (what()) return true;
  return what();
};

describe.each(USERS)('signals and cleanup through the fence command (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('forwards SIGTERM to the command, which exits by its own handler', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--', 'sh', '-c', 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done'], {
      onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && child.kill('SIGTERM')),
    });
    expect(r.stdout).toBe('ready\ngot-term\n');
    expect(r.status).toBe(3);
  });

  it('forwards SIGTERM to the command by its place in the sandbox, even when it calls itself bwrap', async () => {
    ws = workspace(user);
    const script = 'trap "echo got-term; exit 3" TERM; echo ready; while :; do sleep 0.1; done';
    const r = await fence(ws, ['--', 'bash', '-c', `cp /bin/bash /tmp/bwrap && exec /tmp/bwrap -c '${script}'`], {
      onSpawn: (child) => child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && child.kill('SIGTERM')),
    });
    expect(r.stdout).toBe('ready\ngot-term\n');
    expect(r.status).toBe(3);
  });

  it('ends the run with 143 on a SIGTERM that arrives while the sandbox starts, whenever it comes, leaving nothing behind', async () => {
    ws = workspace(user);
    await warm(ws, ['--', 'true']);
    // The helper is the sandbox's init, which the kernel does not even send a signal it has not
    // blocked for its signalfd: before that, bwrap must get it, and the sandbox end with it. A
    // SIGTERM lost in between would leave sleep running until the timeout; one given to bwrap
    // before its report was read left its child waiting forever. Sent as soon as fence has started
    // bwrap, and a few milliseconds later, to land in the sandbox's start; on both paths.
    let k = 0;
    for (const env of [EXPLAIN, NODE])
      for (const delayMs of [0, 1, 2, 4, 8, 16, 32]) {
        // A sleep no other test runs: its length is the marker pgrep looks for afterwards.
        const sleep = `sleep ${(user === 'root' ? 70_000 : 80_000) + k++}`;
        const r = await fence(ws, ['--', ...sleep.split(' ')], {
          env,
          timeoutMs: 15_000,
          onSpawn: (child) => {
            // Watched without a pause (a timer's millisecond missed the moment bwrap is spawned).
            for (const end = Date.now() + 10_000; !startedBwrap(child.pid!) && Date.now() < end; );
            if (delayMs === 0) child.kill('SIGTERM');
            else setTimeout(() => child.kill('SIGTERM'), delayMs);
          },
        });
        // When fence is still starting, it may end by the signal itself, as any program.
        const ended = r.status === 143 || (r.status === null && r.signal === 'SIGTERM') ? 'by SIGTERM' : `${r.status} ${r.signal}`;
        const left = (await until(() => spawnSync('pgrep', ['-fx', sleep]).status === 1)) ? 'nothing' : 'a process';
        expect({ path: env.FENCE_FAST_PATH, delayMs, ended, left }).toEqual({ path: env.FENCE_FAST_PATH, delayMs, ended: 'by SIGTERM', left: 'nothing' });
      }
  }, 120_000);

  it('reaps the processes orphaned inside: no zombie is left while the command runs', async () => {
    ws = workspace(user);
    // The orphaned sleep is re-parented to the sandbox's init, the helper, which must reap it.
    const r = await fence(ws, ['--', 'sh', '-c', '(sleep 0.2 &); sleep 1; ps -eo stat=,comm='], {});
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('ps');
    expect(r.stdout.split('\n').filter((l) => l.trim().startsWith('Z'))).toEqual([]);
  });

  it('leaves no process, socket or temp directory behind when fence is killed with SIGKILL', async () => {
    ws = workspace(user);
    const marker = `fence-e2e-marker-${process.pid}-${user}`;
    writeSettings(ws, { network: { allowedDomains: ['example.com'] } });
    let runtimeDir = '';
    let existed = false;
    const r = await fence(ws, ['-d', '--', 'sh', '-c', `echo ready; exec sleep 60 ${marker}`], {
      onSpawn: (child) => {
        // -d names the proxy socket, and so the session's runtime directory.
        child.stderr?.on('data', (d: Buffer) => (runtimeDir ||= /(\/\S+\/fence-[^/\s]+)\/http\.sock/.exec(d.toString())?.[1] ?? ''));
        child.stdout?.on('data', (d: Buffer) => {
          if (!d.toString().includes('ready')) return;
          existed = runtimeDir !== '' && existsSync(runtimeDir);
          // setpriv execs node, so the child's pid is fence itself for both users.
          process.kill(child.pid!, 'SIGKILL');
        });
      },
    });
    expect(r.signal).toBe('SIGKILL');
    expect(existed).toBe(true);
    expect(await until(() => spawnSync('pgrep', ['-f', marker]).status === 1)).toBe(true);
    expect(await until(() => !existsSync(runtimeDir))).toBe(true);
  });
});
