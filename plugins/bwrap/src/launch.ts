/**
 * The prepare step at PrepareStage.SANDBOX: gathers the filesystem inputs, builds the bwrap
 * arguments and wraps the command as
 *   bwrap --args <fd> -- fence-launch --plan-fd <fd> -- <command...>
 * The arguments travel through a descriptor (NUL-separated), so no path ever meets a shell or the
 * argv length limit. A terminal run adds `--tty` to fence-launch (a pseudo-terminal inside, relayed).
 * Without the native helper: seccomp goes to bwrap `--seccomp`, the bridges to socat, and Landlock,
 * the limits and terminal runs are dropped, each with a note.
 */
import { addFd, note, type DetectionReport, type FeatureProbe, type LaunchPlan, type Logger } from '@fence/core';
import { buildBwrapArgs, type BwrapInput } from './bwrap-args.js';
import { gatherPaths } from './gather.js';
import { loadSeccomp, nativeHelper } from './native.js';
import { Placeholders } from './placeholders.js';
import { forwardToCommand } from './signal.js';
import { bridgeWrapperArgv } from './socat-args.js';

export const LAYER = 'bwrap';

const shellWord = (s: string): string => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

/**
 * The one program for bwrap `--seccomp`. The helper plan holds the rules in two filters (the
 * quiet one is socket(AF_UNIX)); bwrap takes one, so it is rebuilt with every rule, except that
 * socat, started after bwrap installed it, needs AF_UNIX sockets for the bridges.
 */
async function fallbackSeccomp(plan: LaunchPlan): Promise<Uint8Array | undefined> {
  const { seccomp: logged, seccompQuiet: quiet, bridges } = plan.helper;
  if (!logged || !quiet) return logged ?? quiet;
  const allowUnixSockets = bridges.length > 0;
  const seccomp = await loadSeccomp();
  if (!seccomp) {
    const unix = allowUnixSockets ? 'allowed for the socat bridges' : 'NOT refused';
    note(plan, LAYER, `seccomp: cannot merge the two programs (@fence/plugin-seccomp missing): socket(AF_UNIX) ${unix}`);
    return logged;
  }
  if (allowUnixSockets) note(plan, LAYER, 'seccomp: AF_UNIX sockets allowed so the socat bridges work (degraded)');
  return seccomp.buildSeccompProgram({ arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64', allowUnixSockets });
}

/** The in-sandbox part of the wrapper when the native helper is missing. */
async function fallback(plan: LaunchPlan, probe: FeatureProbe): Promise<{ inner: string[]; seccompFd?: number }> {
  const { bridges, landlock, rlimits } = plan.helper;
  note(plan, LAYER, 'native helper (@fence/native) missing: falling back to bwrap --seccomp and socat');
  note(plan, LAYER, 'no terminal of its own for interactive commands (no job control, Ctrl-C ends the sandbox): it needs the native helper');
  if (landlock) note(plan, LAYER, 'Landlock dropped: it needs the native helper (build @fence/native)');
  if (rlimits.length > 0) note(plan, LAYER, 'resource limits dropped: they need the native helper (build @fence/native)');
  const program = await fallbackSeccomp(plan);
  const seccompFd = program ? addFd(plan, program) : undefined;
  if (bridges.length === 0) return { inner: [], seccompFd };
  const socat = probe.which('socat');
  if (!socat) {
    note(plan, LAYER, 'no socat: the proxy bridges cannot run, so nothing inside reaches the network; apt install socat');
    return { inner: [], seccompFd };
  }
  return { inner: bridgeWrapperArgv(socat, bridges), seccompFd };
}

export async function prepareBwrap(plan: LaunchPlan, report: DetectionReport, logger: Logger, probe: FeatureProbe): Promise<void> {
  const facts = report.get(LAYER)?.facts ?? {};
  const bwrap = typeof facts.path === 'string' ? facts.path : 'bwrap';
  const gathered = gatherPaths(plan.policy, logger, { netns: facts.netns === true, disableUserns: facts.disableUserns === true });
  if (facts.netns !== true) note(plan, LAYER, 'no network namespace: --unshare-net skipped, the network is not isolated');

  const placeholders = new Placeholders();
  plan.cleanup.push(() => placeholders.remove());
  const created = placeholders.create(gathered.placeholders);

  const helper = await nativeHelper();
  const { inner, seccompFd } = helper
    ? { inner: [helper.path, '--plan-fd', String(addFd(plan, helper.encode(plan.helper))), '--'], seccompFd: undefined }
    : await fallback(plan, probe);
  // fence-launch --tty: the same plan, the command on a pseudo-terminal of the sandbox's devpts.
  const ttyInner = helper ? [...inner.slice(0, -1), '--tty', '--'] : undefined;
  const input: BwrapInput = {
    ...gathered.input,
    protect: { existing: gathered.input.protect.existing, missing: created },
    runtimeDir: plan.helper.bridges.length > 0 ? plan.runtimeDir() : undefined,
    helper: helper?.path,
    seccompFd,
  };
  const args = buildBwrapArgs(input);
  const argsFd = addFd(plan, new TextEncoder().encode(`${args.join('\0')}\0`));
  // A monitor that must see the command from its start holds it behind bwrap's --block-fd: the
  // namespaces exist (so the monitor can find them), the command waits for the gate's byte.
  plan.bridgeHandoff = helper !== undefined && plan.helper.bridges.length > 0;
  const gate = plan.holdStart ? ['--block-fd', String(addFd(plan, 'start-gate'))] : [];
  const outer = [bwrap, ...gate, '--args', String(argsFd), '--'];
  plan.wrappers.push({ layer: LAYER, argv: [...outer, ...inner], ...(ttyInner && { ttyArgv: [...outer, ...ttyInner] }) });
  plan.terminal = helper?.terminal;
  plan.signal = forwardToCommand;

  const ns = ['user', 'pid', 'ipc', 'uts', ...(input.netns ? ['net'] : [])];
  note(plan, LAYER, `namespaces: ${ns.join(', ')}; capabilities dropped${input.disableUserns ? '; nested user namespaces disabled' : ''}`);
  note(plan, LAYER, `writable: ${[...input.allowWrite, ...(input.runtimeDir ? [input.runtimeDir] : []), '/tmp (private)'].join(', ')}`);
  note(plan, LAYER, `protected: ${input.protect.existing.length} existing, ${created.length} placeholder(s); denyRead: ${input.denyRead.length}; denyWrite: ${input.denyWrite.length}`);
  note(plan, LAYER, helper ? `helper: ${helper.path}` : 'helper: none (fallback)');
  note(plan, LAYER, [bwrap, ...args, '--', ...inner].map(shellWord).join(' '));
}
