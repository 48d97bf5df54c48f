/**
 * The instructions for the native in-sandbox helper (`fence-launch`, in @fence/native): what the
 * Linux layers fill during `prepare` and the sandbox plugin hands to the helper, which carries
 * them out in this order before it execs the command.
 */

/**
 * A bridge run by the in-sandbox helper. Its host side is a descriptor (a plan fd number) opened on
 * the host before the sandbox exists, never a path: nothing inside can replace or redirect it.
 */
export type Bridge =
  /** Listen on 127.0.0.1:port inside the sandbox; forward each connection to the host socket whose O_PATH descriptor is `fd`. */
  | { readonly kind: 'tcp-to-unix'; readonly port: number; readonly fd: number }
  /** Accept on the listening host socket `fd` (the host connects to it); forward each connection to 127.0.0.1:port inside. */
  | { readonly kind: 'unix-to-tcp'; readonly fd: number; readonly port: number }
  /** Listen on 127.0.0.1:port inside; answer each connection with `reply` and close (a refusal without a host proxy). */
  | { readonly kind: 'refuse'; readonly port: number; readonly reply: Uint8Array }
  /**
   * Listen on 127.0.0.1:port inside for the connections the capture rule redirects from a capture
   * address (127.64.0.0/10, given out by the `dns` bridge); open each with `CONNECT name:port` to the
   * HTTP proxy whose host socket is `fd`. Needs the sandbox's network namespace made by
   * `fence-launch --netns` (see `CAPTURE_PORT`). At most one.
   */
  | { readonly kind: 'capture'; readonly port: number; readonly fd: number }
  /** The DNS stub on 127.0.0.53:port (UDP): asks the host's decision socket `fd` about each name. At most one. */
  | { readonly kind: 'dns'; readonly port: number; readonly fd: number };

/** Where the capture rule sends connections to capture addresses (the `capture` bridge's port): core's, which the settings keep free. */
export { CAPTURE_PORT } from '@fence/core';
/** The DNS stub's address and port inside the sandbox. */
export const DNS_STUB = { address: '127.0.0.53', port: 53 } as const;

export interface LandlockPathRule {
  /** LANDLOCK_ACCESS_FS_* bit mask. */
  readonly access: number;
  readonly path: string;
}

export interface LandlockPortRule {
  /** LANDLOCK_ACCESS_NET_* bit mask. */
  readonly access: number;
  readonly port: number;
}

/** A Landlock ruleset, ready for landlock_create_ruleset / add_rule / restrict_self. */
export interface LandlockRuleset {
  readonly abi: number;
  readonly handledAccessFs: number;
  readonly handledAccessNet: number;
  readonly scoped: number;
  /** Flags for landlock_restrict_self (e.g. LOG_NEW_EXEC_ON on ABI 7). */
  readonly restrictFlags: number;
  readonly paths: readonly LandlockPathRule[];
  readonly ports: readonly LandlockPortRule[];
}

export type RlimitResource = 'AS' | 'NPROC' | 'CPU' | 'NOFILE';

export interface Rlimit {
  readonly resource: RlimitResource;
  /** The soft and hard limit; Infinity: unlimited. */
  readonly value: number;
}

/** Instructions for the native in-sandbox helper (`fence-launch`), executed in this order. */
export interface HelperPlan {
  bridges: Bridge[];
  rlimits: Rlimit[];
  landlock?: LandlockRuleset;
  /**
   * A classic-BPF program: struct sock_filter[] as bytes (8 per instruction), installed with
   * SECCOMP_FILTER_FLAG_LOG so its denials reach the kernel's audit log.
   */
  seccomp?: Uint8Array;
  /**
   * A second program in the same format, installed without SECCOMP_FILTER_FLAG_LOG: denials too
   * frequent to log (socket(AF_UNIX), which glibc tries at nearly every start). The kernel logs a
   * denial only when the filter that decided it has the flag. Whoever installs one filter instead
   * of two must rebuild it from both (as bwrap's `--seccomp` fallback does).
   */
  seccompQuiet?: Uint8Array;
  /**
   * With a seccomp supervisor (-m): `program` replaces `seccomp` (same rules, each EPERM sent to
   * the supervisor as SECCOMP_RET_USER_NOTIF); the helper installs it with
   * SECCOMP_FILTER_FLAG_NEW_LISTENER and sends the listener over the Unix socket `socket` (a
   * descriptor of the helper) before the command runs; with `createGuard`, the guard holds the
   * one listener of both and sends a channel instead, over which it forwards this program's calls.
   * `seccomp` stays for whoever cannot supervise (bwrap's `--seccomp` fallback), so a plan is
   * never weaker without the supervisor.
   */
  seccompNotify?: { readonly program: Uint8Array; readonly socket: number };
  /**
   * The creation guard (fence-launch forks it before seccomp; it answers the command's creation
   * syscalls through SECCOMP_RET_USER_NOTIF, and forwards `seccompNotify`'s): protected names that
   * can then be created nowhere. `files` and `dirs` anywhere (a name `a/b` is `b` in a directory
   * called `a`), `git` inside git directories, `gitConfig` inside git directories that existed
   * before the run.
   */
  createGuard?: { readonly files: readonly string[]; readonly dirs: readonly string[]; readonly git: readonly string[]; readonly gitConfig: readonly string[] };
  /**
   * The sandbox limits its processes (a cgroup's pids.max, or RLIMIT_NPROC): the bridges' relay
   * starts before the command. Behind the creation guard it would otherwise start at its first
   * client, and a command that holds the sandbox's last process then would leave it none.
   */
  bridgesFirst?: boolean;
}

/** A plan with nothing to do yet. */
export const emptyHelperPlan = (): HelperPlan => ({ bridges: [], rlimits: [] });
