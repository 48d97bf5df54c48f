/**
 * @fence/plugin-landlock: the Landlock layer. The kernel itself limits writes to /tmp, the needed
 * /dev nodes and allowWrite, and (by ABI) TCP ports, signals and abstract Unix sockets, underneath
 * bwrap's mounts. The ruleset is applied by the native helper just before the command's execve.
 */
import { definePlugin, PrepareStage } from '@fence/core';
import { detectLandlock } from './detect.js';
import { prepareLandlock } from './prepare.js';

export const landlockPlugin = definePlugin({
  name: 'landlock',
  platforms: ['linux'],
  provides: ['filesystem-lsm'],
  detect: () => detectLandlock(),
  apply(kernel) {
    kernel.hooks.prepare.tapPromise({ name: 'landlock', stage: PrepareStage.KERNEL_LAYERS }, (plan, report) =>
      prepareLandlock(kernel, plan, report),
    );
  },
  // Filesystem defence in depth and, without a network namespace, the only TCP restriction.
  requiredUnderStrict: () => true,
});

export default landlockPlugin;

export {
  AccessFs,
  AccessNet,
  buildLandlockRuleset,
  describeRuleset,
  fileOnly,
  handledFs,
  LANDLOCK_ABI_KERNEL,
  LANDLOCK_ABI_MAX,
  missingFeatures,
  NEEDED_DEV_NODES,
  executeOnly,
  readExecute,
  readWrite,
  RestrictSelf,
  Scope,
  terminalRights,
  type LandlockInput,
  type PathEntry,
  type ReadableEntry,
} from './landlock-rules.js';
export { abiConsequence, detectLandlock, REASONS } from './detect.js';
export { prepareLandlock, sandboxHasNetns } from './prepare.js';
export { readablePaths, writablePaths, type ExistingPaths, type WritablePaths } from './writable-paths.js';
