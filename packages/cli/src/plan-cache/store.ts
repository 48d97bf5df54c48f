/**
 * The plan cache's writer. A `fence [flags] -- command` run whose session needs nothing of Node
 * around the command (no service, no monitor, nothing to do at close: fastPathObstacle) is
 * written down for the native fast path (bin/fence → fence-launch --fast), which starts the next
 * identical run without Node when every input is unchanged (inputs.ts).
 *
 * Where: $XDG_CACHE_HOME/fence/plan (else ~/.cache), beside the detection and walk caches;
 * directory 0700, files 0600, written whole and renamed into place. The fast path uses a file
 * only when it belongs to this user and no one else may write it or its directory; inside the
 * sandbox the whole fence cache directory is read-only (bwrap gather.ts), so a command cannot
 * leave the next run a weaker plan.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { commandEnvironment, detectionExpiry, fenceCacheDirs, type LaunchPlan, type Sandbox } from '@fence/core';
import { forwardToCommand, forwardToInit } from '@fence/plugin-bwrap';
import { commandTriggers } from '@fence/plugin-command';
import type { Flags } from '../args.js';
import { encodeEntry, entryName, VOLATILE, type Entry, type EntryFd } from './entry.js';
import { pathInputs } from './inputs.js';
import type { Touched } from './recorder.js';

const BOOT_ID = '/proc/sys/kernel/random/boot_id';

/** The plan cache directory for this environment, or undefined when it has no absolute base. */
export function planCacheDir(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return base.startsWith('/') ? join(base, 'fence', 'plan') : undefined;
}

/** Why flags alone rule the fast path out (each asks for Node during the run), or undefined. */
export function flagObstacle(flags: Flags): string | undefined {
  if (flags.monitor) return '-m';
  if (flags.debug) return '-d';
  if (flags.json) return '--json';
  if (flags.ports.length > 0) return '-p';
  if (flags.plugins.length > 0) return '--plugin';
  return undefined;
}

/** Why this session's plan cannot be replayed without Node, or undefined when it can. */
export function fastPathObstacle(sandbox: Sandbox): string | undefined {
  const { plan, policy } = sandbox;
  if (policy.plugins.length > 0) return 'third-party plugins';
  if (plan.services.length > 0) return `host services (${plan.services.map((s) => s.name).join(', ')})`;
  if (plan.hostTasks.length > 0) return plan.hostTasks.join(', ');
  if (plan.createdRuntimeDir() !== undefined) return 'a runtime directory';
  if (plan.exec.supervisor !== undefined) return plan.exec.supervisor;
  if (policy.limits.wallSeconds > 0) return 'limits.wallSeconds';
  if (plan.wrappers.length !== 1 || (plan.signal !== forwardToCommand && plan.signal !== forwardToInit)) return 'not one bwrap wrapper';
  const held = plan.fds.find((fd) => fd === 'start-gate' || (typeof fd === 'object' && 'inherit' in fd && fd.opened === undefined));
  if (held !== undefined) return 'a descriptor only Fence holds';
  return undefined;
}

function entryFds(plan: LaunchPlan): EntryFd[] {
  return plan.fds.map((fd): EntryFd => {
    if (fd instanceof Uint8Array) return { kind: 'data', bytes: fd };
    if (fd === 'report') return { kind: 'report' };
    if (typeof fd === 'object' && fd.opened) return { kind: 'bind', path: fd.opened.path, type: fd.opened.kind, dev: fd.opened.dev, ino: fd.opened.ino };
    return { kind: 'none' };
  });
}

export interface StoreRequest {
  readonly sandbox: Sandbox;
  /** fence's arguments before `--`, as given. */
  readonly flagWords: readonly string[];
  readonly touched: Touched;
  /** When the session started being built (ns since the epoch). */
  readonly builtAtNs: bigint;
  /** The lines the session wrote to stderr while it was built (its warnings). */
  readonly said: readonly string[];
}

/** Writes the entry; returns why it was not written, or undefined. Never throws. */
export function storePlan(req: StoreRequest): string | undefined {
  const { sandbox } = req;
  const env = sandbox.env;
  const dir = planCacheDir(env);
  if (!dir) return 'no absolute cache directory';
  // A reboot may bring another kernel: the detection cache is keyed on the boot too.
  const touched = new Map(req.touched).set(BOOT_ID, 'read');
  const inputs = pathInputs(touched, req.builtAtNs, [dirname(dir), ...fenceCacheDirs(env)]);
  if (typeof inputs === 'string') return inputs;
  const expires = detectionExpiry(env);
  if (expires === undefined) return 'no stored detection';
  const keyed = (k: string) => !VOLATILE.includes(k);
  const callerEnv = new Map(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && keyed(e[0])));
  const commandEnv = commandEnvironment(Object.fromEntries(callerEnv), sandbox.plan.env, sandbox.policy.environment);
  const dropped = VOLATILE.filter((k) => !(k in commandEnvironment({ [k]: 'x' }, sandbox.plan.env, sandbox.policy.environment)));
  const triggers = commandTriggers(sandbox.policy);
  const entry: Entry = {
    uid: process.getuid?.() ?? 0,
    gid: process.getgid?.() ?? 0,
    cwd: process.cwd(),
    flags: req.flagWords,
    expires: Math.floor(expires / 1000),
    env: callerEnv,
    dropped,
    commandEnv: new Map(Object.entries(commandEnv)),
    refer: triggers.names,
    referPrefixes: triggers.prefixes,
    say: req.said,
    chdir: sandbox.policy.cwd,
    argv: sandbox.plan.wrappers[0]!.argv,
    fds: entryFds(sandbox.plan),
    leases: sandbox.plan.leases,
    inputs,
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, entryName(entry.cwd, entry.flags));
    const tmp = `${file}.${process.pid}`;
    writeFileSync(tmp, encodeEntry(entry), { mode: 0o600 });
    renameSync(tmp, file);
    return undefined;
  } catch (e) {
    return `cannot write: ${e instanceof Error ? e.message : String(e)}`;
  }
}
