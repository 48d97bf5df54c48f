/**
 * The launch plan: what the active plugins fill during `prepare`, and what the kernel carries out
 * at `launch`. Pure data plus host-side services; the kernel knows nothing of what a wrapper is.
 *
 * Final argv = wrappers (in stage order, outermost first) + the command.
 */
import type { Policy } from './policy.js';

/** Stages of the `prepare` hook. Plugins tap with `{ stage }`; lower runs first. */
export const PrepareStage = {
  /** Host services the layers below refer to (proxies). */
  SERVICES: -300,
  /** Instructions for the in-sandbox helper: Landlock rules, seccomp program, limits. */
  KERNEL_LAYERS: -200,
  /** Monitoring set-up that must exist before the sandbox is built. */
  MONITOR: -100,
  /** The sandbox itself (bwrap, Seatbelt): reads everything above and wraps the command. */
  SANDBOX: 100,
  /** Last look at the finished plan (debug output, third-party audits). */
  REPORT: 1000,
} as const;

/** A program that wraps the command, e.g. `bwrap <args> --` or `sandbox-exec -p <profile>`. */
export interface Wrapper {
  readonly layer: string;
  readonly argv: readonly string[];
}

/** A host-side service started once per session before the first command, stopped at close. */
export interface HostService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A bridge run by the in-sandbox helper. `name` is a socket in the host directory whose
 * descriptor is `HelperPlan.bridgeDir`: the helper reaches it only through that descriptor, so
 * nothing inside the sandbox can see, replace or redirect it.
 */
export type Bridge =
  /** Listen on 127.0.0.1:port inside the sandbox; forward each connection to the host socket `name`. */
  | { readonly kind: 'tcp-to-unix'; readonly port: number; readonly name: string }
  /** Listen on the socket `name` (the host connects to it); forward each connection to 127.0.0.1:port inside. */
  | { readonly kind: 'unix-to-tcp'; readonly name: string; readonly port: number };

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

/** Instructions for the native in-sandbox helper (`fence-launch`), executed in this order. */
export interface HelperPlan {
  bridges: Bridge[];
  /** The helper's descriptor of the host directory holding the bridges' sockets (required with bridges). */
  bridgeDir?: number;
  rlimits: { readonly resource: RlimitResource; readonly value: number }[];
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
   * descriptor of the helper) before the command runs. `seccomp` stays for whoever cannot
   * supervise (bwrap's `--seccomp` fallback), so a plan is never weaker without the supervisor.
   */
  seccompNotify?: { readonly program: Uint8Array; readonly socket: number };
}

/** A line for `-d`: which layer did what. */
export interface PlanNote {
  readonly layer: string;
  readonly message: string;
}

/**
 * A descriptor for a wrapper: bytes written at spawn; the start gate — a pipe that receives one
 * byte only after every `monitor` tap has run, so the command cannot act before the monitors
 * watch it (bwrap `--block-fd`); or a descriptor this process holds open (a path opened once, a
 * socket), passed as is, so the wrapper uses what was checked and not whatever a path names later.
 */
export type PlanFd = Uint8Array | 'start-gate' | InheritedFd;

export interface InheritedFd {
  /** Called at each spawn; the descriptor must stay open until the session closes. */
  readonly inherit: () => number;
}

export type SignalStrategy = (childPid: number, signal: NodeJS.Signals) => void;

export interface LaunchPlan {
  readonly policy: Policy;
  /** Wrappers, outermost first. The sandbox plugin adds its wrapper at PrepareStage.SANDBOX. */
  readonly wrappers: Wrapper[];
  /** Changes to the command's environment; `undefined` removes a variable. */
  readonly env: Record<string, string | undefined>;
  /** Descriptors handed to a wrapper: entry i is fd 3 + i in the child. */
  readonly fds: PlanFd[];
  /** Set by a monitor that must see the command from its first instruction (see PlanFd). */
  holdStart: boolean;
  /**
   * Set by the sandbox plugin when the bridges it runs take tunnel handoffs: a proxy may then pass
   * a connected upstream socket to the bridge, which relays without the proxy. Read it at
   * `launch`; it is final after `prepare`.
   */
  bridgeHandoff: boolean;
  readonly helper: HelperPlan;
  readonly services: HostService[];
  /** Run at session close, in reverse order; must not throw. */
  readonly cleanup: (() => void | Promise<void>)[];
  readonly notes: PlanNote[];
  /** Delivers a forwarded signal; default: kill(childPid). The sandbox plugin may target the command itself. */
  signal?: SignalStrategy;
  /** The session's private directory on the host (0700; created on first call; removed at close, even after SIGKILL). */
  readonly runtimeDir: () => string;
}

/** An empty plan, ready for the prepare hook. */
export function createLaunchPlan(policy: Policy, runtimeDir: () => string): LaunchPlan {
  return { policy, wrappers: [], env: {}, fds: [], holdStart: false, bridgeHandoff: false, helper: { bridges: [], rlimits: [] }, services: [], cleanup: [], notes: [], runtimeDir };
}

/** Adds a descriptor to the plan and returns its number in the child. */
export function addFd(plan: LaunchPlan, data: PlanFd): number {
  plan.fds.push(data);
  return 2 + plan.fds.length;
}

export function note(plan: LaunchPlan, layer: string, message: string): void {
  plan.notes.push({ layer, message });
}
