/**
 * Every extension point of the kernel, declared once, typed, and frozen. Reading this file is
 * reading the plugin API (docs/hooks.md gives each hook's kind and order).
 *
 *   detect   AsyncSeriesHook    all active plugins see the whole detection report (cross-layer decisions)
 *   prepare  AsyncSeriesHook    fill the launch plan, ordered by PrepareStage (once per session)
 *   launch   AsyncSeriesHook    the plan's services are up; last changes before the first spawn
 *   monitor  AsyncSeriesHook    a command is running: attach monitors (once per command)
 *   exit     AsyncSeriesHook    a command has exited: flush monitors (once per command)
 *   dispose  AsyncSeriesHook    the session closes: release everything (reverse of prepare)
 */
import { AsyncSeriesHook } from 'tapable';
import type { Availability } from './plugin.js';
import type { LaunchPlan, WrapperProcess } from './plan.js';
import type { Policy } from './policy.js';

/** What detection found, by plugin name. */
export type DetectionReport = ReadonlyMap<string, Availability>;

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
  return Object.freeze({
    detect: new AsyncSeriesHook<[DetectionReport, Policy]>(['report', 'policy']),
    prepare: new AsyncSeriesHook<[LaunchPlan, DetectionReport]>(['plan', 'report']),
    launch: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
    monitor: new AsyncSeriesHook<[RunningCommand]>(['command']),
    exit: new AsyncSeriesHook<[CommandExit]>(['exit']),
    dispose: new AsyncSeriesHook<[LaunchPlan]>(['plan']),
  });
}

export type KernelHooks = ReturnType<typeof createHooks>;
