/**
 * `fence check`: attacks the sandbox built from the current settings, one attack or more per layer
 * and per policy section (check/attacks.ts), and prints for each whether it was stopped, got
 * through (NOT stopped), is allowed by the policy, or could not be tested here, and why. Exits 1
 * only when something the policy forbids got through.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { processProbe, type Bridge, type Sandbox } from '@fence/core';
import type { Flags } from '../args.js';
import type { CheckContext, Relay } from '../check/attack.js';
import { ATTACKS } from '../check/attacks.js';
import { HostTargets } from '../check/host-targets.js';
import { runAttack } from '../check/run-attack.js';
import { exitStatus, outcomeLine, summaryLine, type Outcome } from '../check/verdict.js';
import { sandboxFromFlags } from '../sandbox.js';

/**
 * The relays of one direction (see Bridge), named by their socket in the runtime directory: `http`,
 * `socks` (the proxies' sockets), `out-5432` (a host loopback port), `in-8080` (a -p listener):
 * where an attacker would swap them.
 */
function relaysOf(sandbox: Sandbox, kind: 'tcp-to-unix' | 'unix-to-tcp'): Relay[] {
  const { httpProxyPort, socksProxyPort } = sandbox.policy.network;
  const name = (b: Bridge): string =>
    b.kind === 'unix-to-tcp' ? `in-${b.port}` : b.port === httpProxyPort ? 'http' : b.port === socksProxyPort ? 'socks' : `out-${b.port}`;
  return sandbox.plan.helper.bridges.flatMap((b) => (b.kind === kind ? [{ name: name(b), port: b.port, path: join(sandbox.plan.runtimeDir(), `${name(b)}.sock`) }] : []));
}

/** sys.executable: the interpreter a `python3` on PATH (maybe a pyenv shim) finally runs. */
function pythonInterpreter(): string | undefined {
  const r = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() || undefined : undefined;
}

function contextFor(sandbox: Sandbox, host: HostTargets): CheckContext {
  const relays = relaysOf(sandbox, 'tcp-to-unix');
  const inbound = relaysOf(sandbox, 'unix-to-tcp');
  return {
    policy: sandbox.policy,
    host,
    relays,
    inbound,
    // Asked only when relays exist: the runtime directory is created on first use.
    runtimeDir: relays.length + inbound.length > 0 ? sandbox.plan.runtimeDir() : undefined,
    has: (program) => processProbe.which(program) !== undefined,
    python: pythonInterpreter(),
  };
}

export async function selfCheck(flags: Flags): Promise<number> {
  const host = await HostTargets.open();
  const outcomes: Outcome[] = [];
  try {
    const sandbox = await sandboxFromFlags(flags);
    try {
      const ctx = contextFor(sandbox, host);
      for (const attack of ATTACKS) {
        const outcome = await runAttack(sandbox, ctx, attack);
        outcomes.push(outcome);
        process.stdout.write(`${outcomeLine(attack.name, outcome)}\n`);
      }
    } finally {
      await sandbox.close();
    }
  } finally {
    host.close();
  }
  process.stdout.write(`${summaryLine(outcomes)}\n`);
  return exitStatus(outcomes);
}
