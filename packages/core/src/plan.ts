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
  /** Restrictions the kernel enforces from inside the sandbox (the platform's own layers). */
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
  /**
   * Where the descriptor was opened (O_PATH|O_NOFOLLOW, proved to be that path), with what it was
   * then: a launcher that replays the plan without this process opens and proves it again.
   * A `socket` is a shared service's listening socket, reached through the descriptor.
   * Absent for a descriptor nothing else can reopen (a socket only this process holds, a listener).
   */
  readonly opened?: OpenedPath;
}

/** A path as it was opened (O_PATH|O_NOFOLLOW) and proved: its kind, device and inode. */
export interface OpenedPath {
  readonly path: string;
  readonly kind: 'dir' | 'file' | 'socket';
  readonly dev: number;
  readonly ino: number;
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
  readonly exec: ExecBoundary;
  readonly services: HostService[];
  /** Run at session close, in reverse order; must not throw. */
  readonly cleanup: (() => void | Promise<void>)[];
  readonly notes: PlanNote[];
  /** Degraded layers on this run, one entry per layer (see LayerWarning; add them with warn()). */
  readonly warnings: LayerWarning[];
  /**
   * What this session needs of Fence's own process around a command beyond spawning the wrappers
   * (placeholders to remove, a sweep at close, a cgroup to enter, a supervisor to answer): one
   * phrase each. A plan with none, no service and no descriptor only this process holds can be
   * replayed by a launcher without Node (the CLI's plan cache).
   */
  readonly hostTasks: string[];
  /**
   * Sockets of shared host services (the proxy service) this run holds a connection to from
   * before the start to the end, so they stay up meanwhile: a launcher that replays the plan
   * connects to each (proved to be the recorded socket) and holds it too, or does not replay.
   */
  readonly leases: OpenedPath[];
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
    exec: { unexecutable: [] },
    services: [],
    cleanup: [],
    notes: [],
    warnings: [],
    hostTasks: [],
    leases: [],
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
