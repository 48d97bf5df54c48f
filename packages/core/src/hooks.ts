/**
 * Every extension point of the kernel, declared once, typed, and frozen. Reading this file is
 * reading the plugin API (docs/hooks.md gives each hook's kind and order).
 *
 *   prepare  AsyncSeriesHook    fill the launch plan, ordered by PrepareStage (once per session)
 *   launch   AsyncSeriesHook    the plan's services are up; last changes before the first spawn
 *   monitor  AsyncSeriesHook    a command is running: attach monitors (once per command)
 *   exit     AsyncSeriesHook    a command has exited: flush monitors (once per command)
 *   dispose  AsyncSeriesHook    the session closes: release everything (reverse of prepare)
 *
 * Plugins that offer hooks of their own declare them the same way and pass them to guardTaps,
 * keyed by the session (see @fence/linux-helper): the kernel never learns of them.
 */
import { AsyncSeriesHook, type Hook } from 'tapable';
import type { DetectionReport } from './availability.js';
import { errors, isFenceError } from './errors.js';
import type { LaunchPlan, WrapperProcess } from './plan.js';

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

export function createHooks() {
  return guardTaps(
    Object.freeze({
      prepare: new AsyncSeriesHook<[LaunchPlan, DetectionReport]>(['plan', 'report']),
      launch: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
      monitor: new AsyncSeriesHook<[RunningCommand]>(['command']),
      exit: new AsyncSeriesHook<[CommandExit]>(['exit']),
      dispose: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
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
