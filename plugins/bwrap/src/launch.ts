/**
 * The prepare step at PrepareStage.SANDBOX: gathers the filesystem inputs, builds the bwrap
 * arguments and wraps the command as
 *   bwrap --args <fd> -- fence-launch --plan-fd <fd> -- <command...>
 * The arguments travel through a descriptor (NUL-separated), so no path ever meets a shell or the
 * argv length limit. Without the native helper: seccomp goes to bwrap `--seccomp`, the bridges to
 * socat, and Landlock and the limits are dropped. Whatever is weaker than designed on this run (no
 * network namespace, no helper, limits only as rlimits) becomes one warning per layer.
 */
import { addFd, note, rlimitShortfall, warn, type DetectionReport, type FeatureProbe, type LaunchPlan, type Logger } from '@fence/core';
import { buildBwrapArgs, type BwrapInput } from './bwrap-args.js';
import { gatherPaths } from './gather.js';
import { loadSeccomp, nativeHelper } from './native.js';
import { Placeholders } from './placeholders.js';
import { forwardToCommand } from './signal.js';
import { bridgeWrapperArgv } from './socat-args.js';

export const LAYER = 'bwrap';
/** The name warnings use for the missing native helper, a part of its own (SPEC §1 "Warnings"). */
const HELPER = 'helper';

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
    warn(plan, HELPER, 'socket(AF_UNIX) is not refused, so host Unix sockets visible in the sandbox can be reached');
    return logged;
  }
  if (allowUnixSockets) warn(plan, HELPER, 'socket(AF_UNIX) is allowed for the socat bridges, so host Unix sockets visible in the sandbox can be reached');
  return seccomp.buildSeccompProgram({ arch: process.arch === 'arm64' ? 'aarch64' : 'x86_64', allowUnixSockets });
}

/** What running without a network namespace costs, given what Landlock restricts instead. */
function netnsWarning(plan: LaunchPlan, report: DetectionReport): string {
  const landlock = report.get('landlock');
  const abi = landlock?.status === 'available' ? Number(landlock.facts?.abi ?? 0) : 0;
  const tcp = abi >= 4 ? 'Landlock limits TCP connect to the proxy ports' : 'direct TCP is not isolated either: only programs that use the proxies are filtered';
  const { allowUnixSockets, allowAllUnixSockets } = plan.policy.network;
  // Abstract sockets live in the network namespace; Landlock v6 scopes them instead.
  const abstract = abi < 6 && (allowAllUnixSockets || allowUnixSockets.length > 0) ? '; host abstract Unix sockets are reachable' : '';
  return `no network namespace: UDP is not filtered (${tcp})${abstract}; run with CAP_NET_ADMIN (docker --cap-add=NET_ADMIN) or as root`;
}

/** The in-sandbox part of the wrapper when the native helper is missing. */
async function fallback(plan: LaunchPlan, probe: FeatureProbe): Promise<{ inner: string[]; seccompFd?: number }> {
  const { bridges, landlock, rlimits } = plan.helper;
  warn(plan, HELPER, 'missing (build @fence/native, needs a C compiler): bwrap installs seccomp and socat runs the proxy bridges');
  if (landlock) warn(plan, 'landlock', "off: it needs the native helper; writes are confined by bwrap's mounts alone");
  if (rlimits.length > 0) warn(plan, 'limits', 'not enforced: they need the native helper (build @fence/native)');
  const program = await fallbackSeccomp(plan);
  const seccompFd = program ? addFd(plan, program) : undefined;
  if (bridges.length === 0) return { inner: [], seccompFd };
  const socat = probe.which('socat');
  if (!socat) {
    warn(plan, HELPER, 'no socat either: the proxy bridges cannot run, so nothing inside reaches the network; apt install socat');
    return { inner: [], seccompFd };
  }
  return { inner: bridgeWrapperArgv(socat, bridges), seccompFd };
}

export async function prepareBwrap(plan: LaunchPlan, report: DetectionReport, logger: Logger, probe: FeatureProbe): Promise<void> {
  const facts = report.get(LAYER)?.facts ?? {};
  const bwrap = typeof facts.path === 'string' ? facts.path : 'bwrap';
  const gathered = gatherPaths(plan.policy, logger, { netns: facts.netns === true, disableUserns: facts.disableUserns === true });
  if (facts.netns !== true) warn(plan, LAYER, netnsWarning(plan, report));

  const placeholders = new Placeholders();
  plan.cleanup.push(() => placeholders.remove());
  const created = placeholders.create(gathered.placeholders);

  const helper = await nativeHelper();
  const shortfall = helper && rlimitShortfall(plan.policy.limits, process.getuid?.() === 0);
  if (shortfall) warn(plan, 'limits', shortfall);
  const { inner, seccompFd } = helper
    ? { inner: [helper.path, '--plan-fd', String(addFd(plan, helper.encode(plan.helper))), '--'], seccompFd: undefined }
    : await fallback(plan, probe);
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
  plan.wrappers.push({ layer: LAYER, argv: [bwrap, ...gate, '--args', String(argsFd), '--', ...inner] });
  plan.signal = forwardToCommand;

  const ns = ['user', 'pid', 'ipc', 'uts', ...(input.netns ? ['net'] : [])];
  note(plan, LAYER, `namespaces: ${ns.join(', ')}; capabilities dropped${input.disableUserns ? '; nested user namespaces disabled' : ''}`);
  note(plan, LAYER, `writable: ${[...input.allowWrite, ...(input.runtimeDir ? [input.runtimeDir] : []), '/tmp (private)'].join(', ')}`);
  note(plan, LAYER, `protected: ${input.protect.existing.length} existing, ${created.length} placeholder(s); denyRead: ${input.denyRead.length}; denyWrite: ${input.denyWrite.length}`);
  note(plan, LAYER, helper ? `helper: ${helper.path}` : 'helper: none (fallback)');
  note(plan, LAYER, [bwrap, ...args, '--', ...inner].map(shellWord).join(' '));
}
