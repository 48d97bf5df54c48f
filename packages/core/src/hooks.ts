/**
 * Every extension point of the kernel, declared once, typed, and frozen. Reading this file is
 * reading the plugin API (docs/hooks.md gives each hook's kind and order).
 *
 *   detect   AsyncSeriesHook    all active plugins see the whole detection report and the policy (cross-layer decisions)
 *   prepare  AsyncSeriesHook    fill the launch plan, ordered by PrepareStage (once per session)
 *   launch   AsyncSeriesHook    the plan's services are up; last changes before the first spawn
 *   monitor  AsyncSeriesHook    a command is running: attach monitors (once per command)
 *   exit     AsyncSeriesHook    a command has exited: flush monitors (once per command)
 *   dispose  AsyncSeriesHook    the session closes: release everything (reverse of prepare)
 *   spawn    SyncHook           a command is about to start: a tap refuses it by throwing (command policy)
 *   exec     SyncBailHook       a process in the sandbox calls execve: the first verdict wins (argv exec policy)
 *
 * Plugins that offer hooks of their own declare them the same way and pass them to guardTaps,
 * keyed by the session (see @fence/linux-helper): the kernel never learns of them.
 */
import { AsyncSeriesHook, SyncBailHook, SyncHook, type Hook } from 'tapable';
import type { DetectionReport } from './availability.js';
import { errors, isFenceError } from './errors.js';
import type { LaunchPlan, WrapperProcess } from './plan.js';
import type { Policy } from './policy.js';

export type { DetectionReport } from './availability.js';

/** A command started inside the sandbox. */
export interface RunningCommand {
  readonly plan: LaunchPlan;
  readonly argv: readonly string[];
  /** Host pid of the outermost wrapper process. */
  readonly pid: number;
  /** The wrapper with its report (e.g. which process is the sandbox's init). */
  readonly wrapper: WrapperProcess;
  readonly startedAt: number;
  /** Whether the user asked to see violations (-m). */
  readonly monitor: boolean;
}

export interface CommandExit {
  readonly command: RunningCommand;
  /** Exit status as the shell would report it: the code, or 128+N on signal N. */
  readonly status: number;
}

/** A command the session is about to start (before anything runs). */
export interface CommandRequest {
  /** The command line as given: argv, or `['bash', '-c', string]`. */
  readonly argv: readonly string[];
  readonly policy: Policy;
}

/**
 * An execve/execveat inside the sandbox, as an exec supervisor read it from the caller (see
 * LaunchPlan.exec). The caller waits in the kernel until a verdict is given.
 */
export interface ExecRequest {
  /** The file as the caller named it (relative to its working directory or `dirfd`). */
  readonly path: string;
  /** The same file as this process can open it (through `/proc/<pid>/root`, `cwd` or `fd`). */
  readonly file: string;
  /** Why `file` is not the file the caller would run (a lookup in its view failed: `EACCES`, `ELOOP`): it cannot be identified. */
  readonly unresolved?: string;
  readonly argv: readonly string[];
  /** Host pid of the caller. */
  readonly pid: number;
  /** Name of the calling process (before the exec). */
  readonly process: string;
}

/** A refusal: the call fails with EPERM and the session emits a violation with `reason`. */
export interface ExecVerdict {
  readonly allow: false;
  /** The matched rule, e.g. `command.deny rule "git push"`. */
  readonly reason: string;
}

export function createHooks() {
  return guardTaps(
    Object.freeze({
      detect: new AsyncSeriesHook<[DetectionReport, Policy]>(['report', 'policy']),
      prepare: new AsyncSeriesHook<[LaunchPlan, DetectionReport]>(['plan', 'report']),
      launch: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
      monitor: new AsyncSeriesHook<[RunningCommand]>(['command']),
      exit: new AsyncSeriesHook<[CommandExit]>(['exit']),
      dispose: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
      spawn: new SyncHook<[CommandRequest]>(['request']),
      exec: new SyncBailHook<[ExecRequest], ExecVerdict | undefined>(['request']),
    }),
  );
}

export type KernelHooks = ReturnType<typeof createHooks>;

/** Any hook, whatever its arguments and result. */
type AnyHook = Hook<any, any, any>;
type Callback = (error?: unknown, result?: unknown) => void;

/**
 * Makes every tap of these hooks, present and future, name itself when it fails: an error thrown
 * (or rejected, or passed to the callback) inside a tap becomes `plugin <tap> failed in <hook>:
 * <message>` (PLUGIN_FAILED). A FenceError passes unchanged: it already says what the user must
 * know (a refused flag, a missing layer under --strict).
 */
export function guardTaps<H extends Readonly<Record<string, AnyHook>>>(hooks: H): H {
  for (const [hook, h] of Object.entries(hooks)) {
    const named = (tap: string) => (e: unknown) => (isFenceError(e) ? e : errors.pluginFailed(tap, hook, e));
    h.intercept({
      register(tap) {
        const fn = tap.fn as (...args: unknown[]) => unknown;
        const fail = named(tap.name);
        if (tap.type === 'promise') {
          tap.fn = async (...args: unknown[]) => {
            try {
              return await fn(...args);
            } catch (e) {
              throw fail(e);
            }
          };
        } else if (tap.type === 'async') {
          tap.fn = (...args: unknown[]) => {
            const done = args.pop() as Callback;
            try {
              fn(...args, (error?: unknown, result?: unknown) => (error ? done(fail(error)) : done(error, result)));
            } catch (e) {
              done(fail(e));
            }
          };
        } else {
          tap.fn = (...args: unknown[]) => {
            try {
              return fn(...args);
            } catch (e) {
              throw fail(e);
            }
          };
        }
        return tap;
      },
    });
  }
  return hooks;
}
