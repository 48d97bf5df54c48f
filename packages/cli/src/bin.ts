/**
 * The bundle's entry (dist/fence.cjs). Normally run by the code-cache loader (bin/fence.cjs).
 * tools/snapshot.mjs also evaluates it inside `node --build-snapshot`, to start `fence` from a V8
 * startup snapshot (bin/fence): there it only loads what a run needs and defers `main`.
 */
import { startupSnapshot } from 'node:v8';
import { parseInvocation } from './args.js';
import { main } from './main.js';
import { builtInPlugins } from './plugins.js';

/** The caller's variables bin/fence passes as FENCE_<name>, for the command only. */
const SET_ASIDE = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

const run = (argv: readonly string[]) => {
  // Node opens its inspector on 127.0.0.1:9229 at a SIGUSR1: a port a sandbox allowed to reach
  // the host's (allowLocalOutboundPorts) would then drive the process that supervises it. A
  // listener of its own takes that default away; Fence has no other use for the signal.
  process.on('SIGUSR1', () => undefined);
  // bin/fence keeps these from Fence's own Node; the command gets them as the caller set them,
  // and nothing of Fence (the plan cache's key, the detection cache's) sees the copies.
  for (const name of SET_ASIDE) {
    const value = process.env[`FENCE_${name}`];
    if (value !== undefined) process.env[name] = value;
    delete process.env[`FENCE_${name}`];
  }
  return main(argv).then((status) => {
    process.exitCode = status;
  });
};

/**
 * Runs the pure parts of `fence -- true` once: V8 keeps the compiled functions (and zod's
 * generated parsers) in the snapshot, so a start does not compile them again. No environment, no
 * files but `/`: nothing the build machine has may end up in the snapshot.
 */
async function warmUp(): Promise<void> {
  const [{ loadPolicy }, { findCommandDenial }, seccomp] = await Promise.all([import('@fence/core'), import('@fence/plugin-command'), import('@fence/plugin-seccomp')]);
  parseInvocation(['--', 'true']);
  const { policy } = loadPolicy({ cwd: '/', home: '/', env: {}, inline: {} });
  findCommandDenial(['true'], policy);
  seccomp.splitSeccompPrograms(seccomp.seccompOptionsFor(policy, 'x86_64'));
}

if (startupSnapshot.isBuildingSnapshot()) {
  // Evaluated now, they are in the snapshot's heap (the builder drains the event loop first).
  void Promise.all([import('./commands/run.js'), import('./commands/pre-tool-use.js'), builtInPlugins(), warmUp()]);
  // From a snapshot, argv[1] is the first argument after node's options; bin/fence puts the
  // bundle's path there, so the user's arguments start at 2 as in a normal start.
  startupSnapshot.setDeserializeMainFunction(() => void run(process.argv.slice(2)));
} else {
  void run(process.argv.slice(2));
}
