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
  /**
   * The argv instead of `argv` when the command runs on a terminal of its own (RunOptions.tty):
   * this wrapper then allocates a pseudo-terminal inside and relays it to its stdio. Absent: it cannot.
   */
  readonly ttyArgv?: readonly string[];
}

/** The host side of a terminal run, from the plugin whose wrapper has a `ttyArgv`. */
export interface TerminalHost {
  /** Puts the terminal `fd` in raw mode; returns what sets its previous mode back. Throws when `fd` is no terminal. */
  makeRaw(fd: number): () => void;
}

/** A host-side service started once per session before the first command, stopped at close. */
export interface HostService {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

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
  | { readonly kind: 'refuse'; readonly port: number; readonly reply: Uint8Array };

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
  /**
   * The creation guard (fence-launch forks it before seccomp; it answers the command's creation
   * syscalls through SECCOMP_RET_USER_NOTIF, so it excludes `seccompNotify`): protected names that
   * can then be created nowhere. `files` and `dirs` anywhere (a name `a/b` is `b` in a directory
   * called `a`), `git` inside git directories, `gitConfig` inside git directories that existed
   * before the run.
   */
  createGuard?: { readonly files: readonly string[]; readonly dirs: readonly string[]; readonly git: readonly string[]; readonly gitConfig: readonly string[] };
}

/**
 * The command policy at the exec boundary of every process in the sandbox
 * (`command.runtimeExecPolicy`), filled by the command-policy layer at PrepareStage.KERNEL_LAYERS.
 */
export interface ExecBoundary {
  /**
   * Files (real paths) no process in the sandbox may execute: the sandbox plugin makes each one
   * unexecutable (bwrap binds `/dev/null` over it).
   */
  readonly unexecutable: string[];
  /**
   * The layer that sends every execve/execveat in the sandbox to `hooks.exec` and answers with its
   * verdict (the seccomp supervisor); unset when none does.
   */
  supervisor?: string;
}

/** A line for `-d`: which layer did what. */
export interface PlanNote {
  readonly layer: string;
  readonly message: string;
}

/**
 * A layer that is weaker than designed on this run, and what the user loses by it. The session
 * prints each as `fence: warning: <layer>: <message>` on every run (not only with -d), hands the
 * list to library users as `sandbox.warnings`, and under --strict refuses to run instead.
 */
export interface LayerWarning {
  /** The layer or part of the sandbox that is degraded (`bwrap`, `landlock`, `limits`, ...). */
  readonly layer: string;
  /** The consequence for the user, and how to get the layer back when there is a way. */
  readonly message: string;
}

/**
 * A descriptor for a wrapper: bytes written at spawn; the start gate — a pipe that receives one
 * byte only after every `monitor` tap has run, so the command cannot act before the monitors
 * watch it (bwrap `--block-fd`); the report — a pipe the wrapper writes to and the runner reads
 * to its end (bwrap `--info-fd` names the sandbox's init by pid), see WrapperProcess; a
 * descriptor this process holds open (a path opened once, a socket), passed as is, so the wrapper
 * uses what was checked and not whatever a path names later; or nothing (a slot a layer
 * withdrew: the child gets no descriptor there).
 */
export type PlanFd = Uint8Array | 'start-gate' | 'report' | InheritedFd | 'none';

export interface InheritedFd {
  /** Called at each spawn; the descriptor must stay open until the session closes. */
  readonly inherit: () => number;
}

/** A started wrapper, as the plan's signal strategy and the hooks see it. */
export interface WrapperProcess {
  /** Host pid of the outermost wrapper. */
  readonly pid: number;
  /** Everything the wrapper wrote to the plan's 'report' descriptor, once read to its end. */
  readonly report: string | undefined;
  /** Resolves with the report at its end, or with what arrived when the wrapper exits ('' without one). */
  readonly reported: Promise<string>;
}

/**
 * Delivers a signal to a started command. SIGKILL, which nothing can handle, ends the whole
 * sandbox (every process in it); other signals go to the command itself.
 */
export type SignalStrategy = (wrapper: WrapperProcess, signal: NodeJS.Signals) => void;

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
  readonly exec: ExecBoundary;
  readonly services: HostService[];
  /** Run at session close, in reverse order; must not throw. */
  readonly cleanup: (() => void | Promise<void>)[];
  readonly notes: PlanNote[];
  /** Degraded layers on this run, one entry per layer (see LayerWarning; add them with warn()). */
  readonly warnings: LayerWarning[];
  /** Set with a wrapper's `ttyArgv`: how this process's terminal goes raw while the relay inside owns it. */
  terminal?: TerminalHost;
  /** Delivers a signal (see SignalStrategy); default: kill(wrapper pid). The sandbox plugin targets the command and its sandbox. */
  signal?: SignalStrategy;
  /** The session's private directory on the host (0700; created on first call; removed at close, even after SIGKILL). */
  readonly runtimeDir: () => string;
  /** The runtime directory if a plugin created it (the sandbox must then keep it out of reach). */
  readonly createdRuntimeDir: () => string | undefined;
}

/** An empty plan, ready for the prepare hook. */
export function createLaunchPlan(policy: Policy, runtime: { path(): string; readonly created: boolean }): LaunchPlan {
  return {
    policy,
    wrappers: [],
    env: {},
    fds: [],
    holdStart: false,
    bridgeHandoff: false,
    helper: { bridges: [], rlimits: [] },
    exec: { unexecutable: [] },
    services: [],
    cleanup: [],
    notes: [],
    warnings: [],
    runtimeDir: () => runtime.path(),
    createdRuntimeDir: () => (runtime.created ? runtime.path() : undefined),
  };
}

/** Adds a descriptor to the plan and returns its number in the child. */
export function addFd(plan: LaunchPlan, data: PlanFd): number {
  plan.fds.push(data);
  return 2 + plan.fds.length;
}

export function note(plan: LaunchPlan, layer: string, message: string): void {
  plan.notes.push({ layer, message });
}

/**
 * Records that `layer` is degraded on this run. A second consequence for the same layer joins the
 * first, so the user sees one line per degraded layer.
 */
export function warn(plan: LaunchPlan, layer: string, message: string): void {
  const i = plan.warnings.findIndex((w) => w.layer === layer);
  if (i < 0) plan.warnings.push({ layer, message });
  else plan.warnings[i] = { layer, message: `${plan.warnings[i]!.message}; ${message}` };
}
