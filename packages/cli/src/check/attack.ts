/**
 * The shape of one `fence check` attack: data, not code paths. An attack is a bash script the
 * attacker runs inside the sandbox, judged afterwards by its effect on the host (the file is there,
 * the host server saw a connection, the host process died), never by the attacker's exit code.
 */
import { lstatSync, rmSync } from 'node:fs';
import { shellWord, type Policy } from '@fence/core';
import type { HostTargets } from './host-targets.js';

/** A relay Fence runs for the sandbox between 127.0.0.1:port (inside, or on the host for -p) and a Unix socket at `path`. */
export interface Relay {
  readonly name: string;
  readonly port: number;
  readonly path: string;
}

/** What an attack may look at: the policy, the host targets, and Fence's own machinery. */
export interface CheckContext {
  readonly policy: Policy;
  readonly host: HostTargets;
  /** The proxy relays of this sandbox (none when no proxy runs). */
  readonly relays: readonly Relay[];
  /** The `-p` relays: host 127.0.0.1:port → a socket at `path` the in-sandbox helper serves. */
  readonly inbound: readonly Relay[];
  /** The session's runtime directory on the host, when the sandbox has one. */
  readonly runtimeDir: string | undefined;
  /** Whether a program is installed (the sandbox sees the host's programs). */
  readonly has: (program: string) => boolean;
  /** The Python interpreter itself (not a version manager's shim, which costs seconds a run). */
  readonly python: string | undefined;
}

export interface Attack {
  /** What the attacker tries, as the report prints it. */
  readonly name: string;
  /** SPEC §1's section of the policy or layer this attack covers (for the docs and tests). */
  readonly covers: string;
  /** Why it cannot be run here (a missing program, nothing to attack), or undefined. */
  readonly untestable?: (ctx: CheckContext) => string | undefined;
  /** Why the policy allows this action, when it does: reported as allowed, never as an escape. */
  readonly allowedBy?: (ctx: CheckContext) => string | undefined | Promise<string | undefined>;
  /** The bash script the attacker runs inside the sandbox. */
  readonly script: (ctx: CheckContext) => string;
  /** A host action after the script that completes the attack (a host client of a tampered relay). */
  readonly provoke?: (ctx: CheckContext) => Promise<void>;
  /**
   * How the effect is judged after the run:
   * - `effect`: `happened(ctx, stdout)` looks at the effect itself: on the host (a file, a server,
   *   a process) or, for a syscall with no host effect, what the call returned;
   * - `same-as-host`: the script prints `ok …` when the action worked; it runs on the host first
   *   (a probe with no lasting effect), and an action the host itself refuses proves nothing.
   */
  readonly judge: { readonly kind: 'effect'; readonly happened: (ctx: CheckContext, stdout: string) => boolean } | { readonly kind: 'same-as-host' };
}

/** A word for bash (quoted when it needs it). */
export const sh = shellWord;

/** Runs a Python program (untestable() must have checked needsPython). */
export const python = (ctx: CheckContext, program: string): string => `${sh(ctx.python!)} -c ${sh(program)}`;

/** A Python probe that prints `ok` when the libc call returned 0 or more, else `err <errno>`. */
export const pythonProbe = (ctx: CheckContext, setup: string, call: string): string =>
  python(ctx, `import ctypes, os, sys\nl = ctypes.CDLL(None, use_errno=True)\n${setup}\nr = ${call}\nprint('ok' if r >= 0 else 'err %d' % ctypes.get_errno())`);

/** Judges by what the sandbox's own output says happened (a syscall's result). */
export const printedOk = { kind: 'effect', happened: (_ctx: CheckContext, stdout: string) => stdout.startsWith('ok') } as const;

export const needs = (program: string) => (ctx: CheckContext): string | undefined =>
  ctx.has(program) ? undefined : `${program} is not installed`;

export const needsPython = (ctx: CheckContext): string | undefined => (ctx.python ? undefined : 'python3 is not installed');

/** Whether something is at `path` (a dangling link counts). */
export const exists = (path: string): boolean => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** Whether the attacker's file got there; judging also removes it, so an escape leaves no litter. */
export const landed = (path: string): boolean => {
  const there = exists(path);
  rmSync(path, { force: true });
  return there;
};
