/**
 * @fence/plugin-bwrap: the Linux sandbox. Namespaces (user, pid, ipc, uts, net) and mounts from
 * bubblewrap, the mandatory write protection, and the wrapper that starts the in-sandbox helper.
 */
import { PrepareStage, Tokens, definePlugin, type FencePlugin } from '@fence/core';
import { helperSession, LINUX_PATHS } from '@fence/linux-helper';
import { detectBwrap } from './detect.js';
import { resolveDevices } from './devices.js';
import { LAYER, prepareBwrap } from './launch.js';
import { SandboxLimits } from './limits.js';

export const bwrapPlugin: FencePlugin = definePlugin({
  name: LAYER,
  platforms: ['linux'],
  provides: ['filesystem', 'namespaces', 'network-isolation'],
  // Without bwrap there is no sandbox on Linux: its absence is fatal, with the install command.
  essential: true,
  detect: () => detectBwrap(),
  register(services) {
    services.register(Tokens.PlatformPaths, { useValue: LINUX_PATHS });
  },
  apply(kernel) {
    const logger = kernel.resolve(Tokens.Logger);
    const limits = new SandboxLimits(LAYER, logger);
    const options = { logger, limits, strict: kernel.options.strict, helper: helperSession(kernel) };
    // Checked before any layer prepares: Landlock grants the same devices at KERNEL_LAYERS.
    let devices: readonly string[] = [];
    kernel.hooks.detect.tap(LAYER, (_report, policy) => {
      devices = resolveDevices(policy.devices.allow);
    });
    kernel.hooks.prepare.tapPromise({ name: LAYER, stage: PrepareStage.SANDBOX }, (plan, report) => prepareBwrap(plan, report, { ...options, devices }));
    // Behind the start gate: the sandbox enters its cgroups before the command runs.
    kernel.hooks.monitor.tapPromise(LAYER, (command) => limits.watch(command));
    kernel.hooks.exit.tapPromise(LAYER, ({ command }) => limits.finish(command));
  },
});

export default bwrapPlugin;

export { bindPaths, buildBwrapArgs, planMounts, sandboxVisibility, isWithin, type BindPath, type BwrapInput, type BwrapLayout, type PathEntry, type PathKind, type Visibility } from './bwrap-args.js';
export { expandDevices, resolveDevices, type PassedDevices } from './devices.js';
export { SETTINGS_NOTES } from './settings-notes.js';
export { detectBwrap, probeBwrap, bwrapInstallHint, BWRAP_INSTALL, type BwrapFacts, type Prober } from './detect.js';
export { gatherPaths, PROXY_SERVICES, type GatheredPaths } from './gather.js';
export { walkTrees, outermost, type WalkVisitor } from './glob-expand.js';
export { PROTECTED_FILES, PROTECTED_DIRS, gitProtectedNames, protectedNamesAt } from './mandatory-paths.js';
export { commandPid, forwardToCommand, forwardToInit, killSandbox, sandboxInit } from './signal.js';
export { prepareBwrap, LAYER, type PrepareOptions } from './launch.js';
export { cgroupBases, planLimits, limitReached, degradedWarning, type CgroupBase, type LimitsPlan, type LimitChoice, type Mechanism } from './cgroup-plan.js';
export { usableCgroupBases } from './cgroup.js';
export { SandboxLimits } from './limits.js';
