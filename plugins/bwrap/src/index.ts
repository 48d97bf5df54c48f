/**
 * @fence/plugin-bwrap: the Linux sandbox. Namespaces (user, pid, ipc, uts, net) and mounts from
 * bubblewrap, the mandatory write protection, and the wrapper that starts the in-sandbox helper.
 */
import { PrepareStage, Tokens, definePlugin, type FencePlugin } from '@fence/core';
import { helperSession } from '@fence/linux-helper';
import { detectBwrap } from './detect.js';
import { LAYER, prepareBwrap } from './launch.js';
import { SandboxLimits } from './limits.js';

export const bwrapPlugin: FencePlugin = definePlugin({
  name: LAYER,
  platforms: ['linux'],
  provides: ['filesystem', 'namespaces', 'network-isolation'],
  // Without bwrap there is no sandbox on Linux: its absence is fatal, with the install command.
  essential: true,
  detect: () => detectBwrap(),
  apply(kernel) {
    const logger = kernel.resolve(Tokens.Logger);
    const limits = new SandboxLimits(LAYER, logger);
    const options = { logger, limits, strict: kernel.options.strict, helper: helperSession(kernel) };
    kernel.hooks.prepare.tapPromise({ name: LAYER, stage: PrepareStage.SANDBOX }, (plan, report) => prepareBwrap(plan, report, options));
    // Behind the start gate: the sandbox enters its cgroups before the command runs.
    kernel.hooks.monitor.tapPromise(LAYER, (command) => limits.watch(command));
    kernel.hooks.exit.tapPromise(LAYER, ({ command }) => limits.finish(command));
  },
});

export default bwrapPlugin;

export { bindPaths, buildBwrapArgs, planMounts, sandboxVisibility, isWithin, type BindPath, type BwrapInput, type BwrapLayout, type PathEntry, type PathKind, type Visibility } from './bwrap-args.js';
export { detectBwrap, probeBwrap, bwrapInstallHint, BWRAP_INSTALL, type BwrapFacts, type Prober } from './detect.js';
export { gatherPaths, type GatheredPaths } from './gather.js';
export { walkTrees, outermost, type WalkVisitor } from './glob-expand.js';
export { PROTECTED_FILES, PROTECTED_DIRS, gitProtectedNames, protectedNamesAt } from './mandatory-paths.js';
export { commandPid, forwardToCommand, killSandbox, sandboxInit } from './signal.js';
export { prepareBwrap, LAYER, type PrepareOptions } from './launch.js';
export { cgroupBases, planLimits, limitReached, degradedWarning, type CgroupBase, type LimitsPlan, type LimitChoice, type Mechanism } from './cgroup-plan.js';
export { usableCgroupBases } from './cgroup.js';
export { SandboxLimits } from './limits.js';
