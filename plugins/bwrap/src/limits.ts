/**
 * The sandbox's resource limits: decided once per session (prepare), then for each command a
 * per-run cgroup that the sandbox's init enters before the command starts (monitor, behind the
 * start gate), watched while it runs, and emptied and removed when it exits (exit).
 */
import { errors, note, warn, type LaunchPlan, type Logger, type RunningCommand } from '@fence/core';
import { rlimitsFor, type HelperPlan } from '@fence/linux-helper';
import { degradedWarning, howToFix, limitReached, limitsNote, planLimits, type LimitsPlan } from './cgroup-plan.js';
import { RunCgroups, usableCgroupBases } from './cgroup.js';
import { killSandbox, sandboxInit } from './signal.js';

/** How often the counters are read: a CPU or memory overrun is stopped within this time. */
const POLL_MS = 100;

interface Run {
  readonly cgroups: RunCgroups;
  readonly timer: NodeJS.Timeout;
  readonly said: Set<string>;
}

export class SandboxLimits {
  #plan: LimitsPlan | undefined;
  readonly #runs = new Map<RunningCommand, Run>();

  constructor(
    private readonly layer: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Chooses the mechanism of each limit, refuses under --strict one that would not hold for the
   * sandbox as a whole, warns once otherwise, and gives the helper the rlimits no cgroup replaces.
   * Returns whether the command must wait at the start gate (a cgroup must be entered first).
   */
  prepare(plan: LaunchPlan, helperPlan: HelperPlan, options: { helper: boolean; strict: boolean }): boolean {
    const { limits } = plan.policy;
    const root = process.getuid?.() === 0;
    // Reading the cgroup hierarchies costs every start; only a sandbox-wide limit needs them.
    const wholeSandbox = limits.processes > 0 || limits.memoryMB > 0 || limits.cpuSeconds > 0;
    const planned = planLimits(limits, { bases: wholeSandbox ? usableCgroupBases() : [], helper: options.helper, root });
    const degraded = planned.choices.find((c) => c.consequence);
    if (degraded && options.strict) throw errors.limitUnenforceable(`limits.${degraded.field}`, degraded.consequence!, 'no usable cgroup', howToFix(root));
    const warning = degradedWarning(planned.choices, root);
    if (warning) warn(plan, 'limits', warning);
    helperPlan.rlimits = rlimitsFor(limits).filter((r) => !planned.replaced.includes(r.resource));
    // The bridges' relay counts against a process limit: it must not wait for its first client.
    if (planned.choices.some((c) => c.field === 'processes' && c.mechanism !== 'none')) helperPlan.bridgesFirst = true;
    if (planned.choices.length > 0 || limits.openFiles > 0 || limits.wallSeconds > 0) note(plan, this.layer, limitsNote(limits, planned));
    this.#plan = planned;
    return planned.cgroups.length > 0;
  }

  /** Puts the sandbox's init in the run's cgroups before the gate opens, then watches them. */
  async watch(command: RunningCommand): Promise<void> {
    const planned = this.#plan?.cgroups ?? [];
    if (planned.length === 0) return;
    const init = sandboxInit(await command.wrapper.reported);
    if (init === undefined) return; // bwrap failed before it made the sandbox: nothing runs
    let cgroups: RunCgroups | undefined;
    try {
      cgroups = RunCgroups.create(planned);
      cgroups.place(init);
    } catch (e) {
      // Fail closed: a sandbox outside its cgroup would run without its limits.
      killSandbox(command.wrapper);
      await cgroups?.remove();
      this.logger.notice(`limits: the sandbox could not enter its cgroup (${e instanceof Error ? e.message : String(e)}), so the command was not run`);
      return;
    }
    const run: Run = { cgroups, said: new Set(), timer: setInterval(() => this.#check(command, run, true), POLL_MS) };
    run.timer.unref();
    this.#runs.set(command, run);
  }

  /** After the command: what the limits stopped (said once each), nothing left running, no cgroup left. */
  async finish(command: RunningCommand): Promise<void> {
    const run = this.#runs.get(command);
    if (!run) return;
    this.#runs.delete(command);
    clearInterval(run.timer);
    this.#check(command, run, false);
    run.cgroups.killAll();
    await run.cgroups.remove();
  }

  /** Says each limit reached, once; stops the sandbox for those that stop it while it runs. */
  #check(command: RunningCommand, run: Run, running: boolean): void {
    for (const [watch, text] of run.cgroups.readings()) {
      const hit = limitReached(watch, text, command.plan.policy.limits);
      if (!hit || run.said.has(watch.field)) continue;
      run.said.add(watch.field);
      this.logger.notice(hit.message);
      if (hit.stop && running) killSandbox(command.wrapper);
    }
  }
}
