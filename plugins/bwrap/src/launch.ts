/**
 * The prepare step at PrepareStage.SANDBOX: gathers the filesystem inputs, builds the bwrap
 * arguments and wraps the command as
 *   bwrap --args <fd> -- fence-launch --plan-fd <fd> -- <command...>
 * The arguments travel through a descriptor (NUL-separated), so no path ever meets a shell or the
 * argv length limit. A terminal run adds `--tty` to fence-launch (a pseudo-terminal inside, relayed).
 * Without the native helper: seccomp goes to bwrap `--seccomp`, Landlock and the
 * limits are dropped, and a policy that needs the proxy bridges is refused. Whatever is weaker
 * than designed on this run (no network namespace, no helper) becomes one warning per layer.
 */
import { closeSync, fstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { addFd, errors, note, shellWord, warn, type DetectionReport, type LaunchPlan, type Logger } from '@fence/core';
import { CAPTURE_PORT, DNS_STUB, encodeHelperPlan, nativeMissing, type HelperSession } from '@fence/linux-helper';
import { BindFds, openExact } from './bind-fds.js';
import { chooseCreateGuard, PLACEHOLDERS_SHOW } from './create-guard.js';
import { bindPaths, buildBwrapArgs, sandboxVisibility, type BwrapLayout, type PathKind } from './bwrap-args.js';
import { expandDevices } from './devices.js';
import { gatherPaths } from './gather.js';
import { placeholderExcludes } from './git-exclude.js';
import { LinkGuard } from './link-guard.js';
import { sweep } from './sweep.js';
import type { SandboxLimits } from './limits.js';
import { nativeHelper } from './native.js';
import { Placeholders } from './placeholders.js';
import { forwardToCommand, forwardToInit } from './signal.js';
import { tmpProjectRoot } from './tmp-project.js';

export const LAYER = 'bwrap';
/** The name warnings use for the missing native helper, a part of its own (SPEC §1 "Warnings"). */
const HELPER = 'helper';

/**
 * The one program for bwrap `--seccomp`. The helper plan holds the rules in two filters (the
 * quiet one is socket(AF_UNIX)); bwrap takes one, which the layer that built them gives.
 */
function fallbackSeccomp(plan: LaunchPlan, helper: HelperSession): Uint8Array | undefined {
  const { seccomp: logged, seccompQuiet: quiet } = helper.plan;
  if (!logged || !quiet) return logged ?? quiet;
  const single = helper.hooks.singleFilter.call();
  if (single) return single;
  note(plan, LAYER, 'seccomp: no layer merges the two programs: socket(AF_UNIX) NOT refused');
  warn(plan, HELPER, 'socket(AF_UNIX) is not refused, so host Unix sockets visible in the sandbox can be reached');
  return logged;
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

/** The sandbox's resolver: the helper's DNS stub, the only DNS server there is inside. */
const RESOLV_CONF = '/etc/resolv.conf';
const STUB_RESOLV_CONF = `# Fence: the sandbox's DNS stub (allowed names only)\nnameserver ${DNS_STUB.address}\n`;

/**
 * Where the stub's resolv.conf goes: /etc/resolv.conf's real path (bwrap would follow a link
 * there anyway), or why it cannot: bwrap cannot create a file where the sandbox shows no
 * directory (a dangling link, a link into the host's /tmp or a denyRead directory, no file).
 */
function resolvConfTarget(input: BwrapLayout): { path: string } | { why: string } {
  let path: string;
  try {
    path = realpathSync(RESOLV_CONF);
  } catch (e) {
    return { why: `${RESOLV_CONF} cannot be followed (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
  }
  return sandboxVisibility(input, path) === 'hidden' ? { why: `${RESOLV_CONF} leads to ${path}, which the sandbox does not show` } : { path };
}

/**
 * Whether the helper's DNS stub and capture listener run (the proxy layer asked for them): they
 * need the network namespace fence-launch makes (`--netns`) and a place for the stub's
 * resolv.conf. Without them, their bridges go; the proxies still serve what uses their variables.
 */
function chooseCapture(plan: LaunchPlan, session: HelperSession, facts: Readonly<Record<string, unknown>>, helper: boolean, input: BwrapLayout): string | undefined {
  const asked = session.plan.bridges.some((b) => b.kind === 'capture');
  const netns = facts.netns === true;
  const made = facts.captureNetns === true;
  const target = asked && netns && helper ? (made ? resolvConfTarget(input) : { why: `the helper cannot make its network namespace: ${String(facts.captureError ?? 'unknown')}` }) : undefined;
  if (target && 'path' in target) return target.path;
  const { bridges } = session.plan;
  // The DNS decider's socket has no other user; the capture bridge's is the HTTP proxy's, kept.
  for (const b of bridges) if (b.kind === 'dns') plan.fds[b.fd - 3] = 'none';
  bridges.splice(0, Infinity, ...bridges.filter((b) => b.kind !== 'capture' && b.kind !== 'dns'));
  const off = 'programs that ignore the proxy variables reach nothing';
  if (target) warn(plan, LAYER, `capture: off (${target.why}): ${off}`);
  else if (asked && helper) note(plan, LAYER, `capture: off (no network namespace): ${off}`);
  return undefined;
}

/** Without the helper nothing would close the bridges' host descriptors before the command. */
function dropBridges(plan: LaunchPlan, helper: HelperSession): void {
  for (const b of helper.plan.bridges.splice(0)) if (b.kind !== 'refuse') plan.fds[b.fd - 3] = 'none';
}

/**
 * The in-sandbox part of the wrapper when the native helper is missing. The proxy bridges need
 * it: any other relay would need Unix sockets inside the sandbox, and with them the command could
 * reach every host Unix socket. So a policy that needs the network is refused; one that only
 * watches (-m, -d) runs without the bridges, and nothing inside reaches the proxies.
 */
function fallback(plan: LaunchPlan, helper: HelperSession): { inner: string[]; seccompFd?: number } {
  const { bridges, landlock } = helper.plan;
  if (bridges.length > 0 && (plan.policy.network.allowedDomains.length > 0 || bridges.some((b) => b.kind === 'unix-to-tcp'))) {
    throw nativeMissing('network access (network.allowedDomains, -p), which must not open host Unix sockets to the command,');
  }
  warn(plan, HELPER, `missing (build @fence/native, needs a C compiler): bwrap installs seccomp, nothing inside reaches the proxies, and ${PLACEHOLDERS_SHOW}`);
  dropBridges(plan, helper);
  if (landlock) warn(plan, 'landlock', "off: it needs the native helper; writes are confined by bwrap's mounts alone");
  const program = fallbackSeccomp(plan, helper);
  return { inner: [], seccompFd: program ? addFd(plan, program) : undefined };
}

/**
 * Opens every path the mounts bind, once for the session (closed at session close), and hands
 * each descriptor to bwrap as is: returns each path's descriptor number in bwrap.
 */
function openBinds(plan: LaunchPlan, layout: BwrapLayout, gathered: ReadonlyMap<string, PathKind>): Map<string, number> {
  const fds = new BindFds();
  plan.cleanup.push(() => fds.close());
  const kinds = new Map<string, PathKind>([...gathered, [layout.cwd, 'dir']]);
  if (layout.helper) kinds.set(layout.helper, 'file');
  if (layout.tmpProject) kinds.set(layout.tmpProject, 'dir');
  const opened = fds.open(bindPaths(layout), kinds);
  return new Map(
    [...opened].map(([path, fd]) => {
      // openExact proved it a directory or a regular file.
      const st = fstatSync(fd);
      const kind = st.isDirectory() ? ('dir' as const) : ('file' as const);
      return [path, addFd(plan, { inherit: () => fd, opened: { path, kind, dev: st.dev, ino: st.ino } })];
    }),
  );
}

export interface PrepareOptions {
  readonly logger: Logger;
  readonly limits: SandboxLimits;
  readonly strict: boolean;
  /** The session's helper plan and hooks (@fence/linux-helper). */
  readonly helper: HelperSession;
  /** devices.allow as resolveDevices checked it when the session started: real paths under /dev. */
  readonly devices: readonly string[];
}

/** What -d says of /dev: the mode as chosen, and each device passed through. */
function devicesNote(mode: LaunchPlan['policy']['devices']['mode'], allow: readonly string[]): string {
  if (mode === 'host') return `devices: host (the host's whole /dev)${allow.length > 0 ? `; devices.allow is redundant here: ${allow.join(', ')}` : ''}`;
  const chosen = mode === 'auto' ? 'auto → minimal' : 'minimal';
  return `devices: ${chosen} (bwrap's /dev: null, zero, full, random, urandom, tty, ptmx, pts, shm)${allow.length > 0 ? `; passed through: ${allow.join(', ')}` : ''}`;
}

export async function prepareBwrap(plan: LaunchPlan, report: DetectionReport, { logger, limits, strict, helper: session, devices }: PrepareOptions): Promise<void> {
  const facts = report.get(LAYER)?.facts ?? {};
  const bwrap = typeof facts.path === 'string' ? facts.path : 'bwrap';
  const helper = await nativeHelper();
  // With the creation guard, missing protected names need no placeholder (only the policy's own
  // missing denyWrite paths still get one), and protected git names need no mount of their own.
  const chosen = chooseCreateGuard(plan, report, helper !== undefined);
  if (typeof chosen === 'string') warn(plan, LAYER, chosen);
  const guard = typeof chosen === 'object' ? chosen : undefined;
  session.plan.createGuard = guard;
  const gathered = gatherPaths(plan.policy, logger, { netns: facts.netns === true, disableUserns: facts.disableUserns === true }, guard !== undefined);
  if (guard && gathered.denyWriteNames.length > 0) session.plan.createGuard = { ...guard, files: [...guard.files, ...gathered.denyWriteNames] };
  if (facts.netns !== true) {
    // The helper's -p relay would connect to the host's own 127.0.0.1:N: Fence's forwarder, a loop.
    if (session.plan.bridges.some((b) => b.kind === 'unix-to-tcp')) throw errors.flagInvalid('-p', 'needs a network namespace, which this machine does not give (see fence --linux-features): the sandbox already shares the host network');
    warn(plan, LAYER, netnsWarning(plan, report));
  }

  // The guard knows names, not where a directory that is a symlink leads: a protected name whose
  // directory is reached through one (a planted `.git -> elsewhere`) is refused as it is without the guard.
  if (guard) for (const dir of new Set(gathered.placeholders.map((p) => dirname(p)))) closeSync(openExact(dir, 'dir'));
  const placeholders = new Placeholders();
  plan.cleanup.push(() => placeholders.remove());
  const created = placeholders.create(guard ? gathered.denyWriteMissing : gathered.placeholders);
  if (created.length > 0) plan.hostTasks.push('placeholders to remove at close');
  const excludes = placeholderExcludes(created);
  const links = new LinkGuard();
  links.record(gathered.links);
  if (gathered.links.length > 0) plan.hostTasks.push('protected symlinks to put back at close');
  plan.cleanup.push(() => links.restore(logger));
  // Pushed after the placeholders' removal, so it runs before it (cleanup runs in reverse).
  const seen = new Set([...gathered.sweep.seen, ...created]);
  const swept = guard && new Set(guard.gitConfig);
  // Without a writable host directory the command can create nothing there to sweep.
  if (swept?.size !== 0 && gathered.input.allowWrite.length > 0) {
    plan.cleanup.push(() => sweep({ ...gathered.sweep, seen, names: swept }, logger));
    plan.hostTasks.push('the sweep for protected names at close');
  }
  const resolvConf = chooseCapture(plan, session, facts, helper !== undefined, gathered.input);
  const capture = resolvConf !== undefined;
  const cgroupsFirst = limits.prepare(plan, session.plan, { helper: helper !== undefined, strict });
  const { inner, seccompFd } = helper
    ? { inner: [helper.path, '--plan-fd', String(addFd(plan, encodeHelperPlan(session.plan))), '--'], seccompFd: undefined }
    : fallback(plan, session);
  // fence-launch --tty: the same plan, the command on a pseudo-terminal of the sandbox's devpts.
  const ttyInner = helper ? [...inner.slice(0, -1), '--tty', '--'] : undefined;
  // The runtime directory holds Fence's sockets: never visible, even under a writable path.
  const runtime = plan.createdRuntimeDir();
  const hideRuntime = runtime !== undefined && sandboxVisibility(gathered.input, runtime) !== 'hidden';
  // The shared proxy services' sockets (every policy's) likewise, wherever the run looks.
  const services = gathered.serviceDirs.filter((d) => sandboxVisibility(gathered.input, d) !== 'hidden');
  const layout: BwrapLayout = {
    ...gathered.input,
    // With the capture, fence-launch made the network namespace; bwrap runs in it as its root.
    ...(capture && { netns: false, ids: { uid: process.getuid!(), gid: process.getgid!() } }),
    denyRead: [
      ...gathered.input.denyRead,
      ...(hideRuntime ? [{ path: runtime, kind: 'dir' as const }] : []),
      ...services.map((path) => ({ path, kind: 'dir' as const })),
      // The command policy's runtime denials: /dev/null over the file, which no exec can run.
      ...plan.exec.unexecutable.map((path) => ({ path, kind: 'file' as const })),
    ],
    // The helper runs in every later sandbox: never writable from this one.
    denyWrite: helper ? [...new Set([...gathered.input.denyWrite, helper.path])] : gathered.input.denyWrite,
    protect: { ...gathered.input.protect, missing: created },
    helper: helper?.path,
    data: [...excludes.keys(), ...(resolvConf !== undefined ? [resolvConf] : [])],
    tmpProject: tmpProjectRoot(gathered.input.cwd),
    devices: { host: plan.policy.devices.mode === 'host', ...expandDevices(devices) },
  };
  const data = new Map([...excludes, ...(resolvConf !== undefined ? [[resolvConf, STUB_RESOLV_CONF] as const] : [])]);
  const dataFds = new Map([...data].map(([path, content]) => [path, addFd(plan, new TextEncoder().encode(content))]));
  const input = { ...layout, bindFds: openBinds(plan, layout, gathered.kinds), seccompFd, dataFds };
  const args = buildBwrapArgs(input);
  const argsFd = addFd(plan, new TextEncoder().encode(`${args.join('\0')}\0`));
  // A monitor that must see the command from its start holds it behind bwrap's --block-fd: the
  // namespaces exist (so the monitor can find them), the command waits for the gate's byte.
  if (helper !== undefined && session.plan.bridges.length > 0) session.hooks.bridgeHandoff.call();
  const hold = cgroupsFirst || session.hooks.holdStart.call() === true;
  if (hold) plan.hostTasks.push('the start gate (a monitor or a cgroup first)');
  const gate = hold ? ['--block-fd', String(addFd(plan, 'start-gate'))] : [];
  // The sandbox's init by pid: signals, the wall limit and the cgroups act on it, never on a name.
  const info = ['--info-fd', String(addFd(plan, 'report'))];
  // The capture's network namespace is made first, by the helper, which then execs bwrap (netns.c).
  const netnsFirst = capture ? [helper!.path, '--netns', String(CAPTURE_PORT), '--'] : [];
  // The guard stays the command's parent (main.c): bwrap runs the helper as the namespace's init
  // instead of forking an init of its own before it, one process less per run. On the command
  // line, not in the args: the fast path forwards signals by it too (fastpath-run.c).
  const asInit = helper !== undefined && guard !== undefined ? ['--as-pid-1'] : [];
  const outer = [...netnsFirst, bwrap, ...asInit, ...gate, ...info, '--args', String(argsFd), '--'];
  plan.wrappers.push({ layer: LAYER, argv: [...outer, ...inner], ...(ttyInner && { ttyArgv: [...outer, ...ttyInner] }) });
  plan.terminal = helper?.terminal;
  plan.signal = asInit.length > 0 ? forwardToInit : forwardToCommand;

  const ns = ['user', 'pid', 'ipc', 'uts', ...(input.netns ? ['net'] : capture ? ['net (made by the helper, with the capture rule)'] : [])];
  note(plan, LAYER, `namespaces: ${ns.join(', ')}; capabilities dropped${input.disableUserns ? '; nested user namespaces disabled' : ''}`);
  note(plan, LAYER, `writable: ${[...input.allowWrite, '/tmp (private)'].join(', ')}`);
  note(plan, LAYER, `protected: ${input.protect.existing.length} existing, ${created.length} placeholder(s)${guard ? ', missing names refused by the creation guard' : ''}; denyRead: ${input.denyRead.length}; denyWrite: ${input.denyWrite.length}`);
  note(plan, LAYER, devicesNote(plan.policy.devices.mode, devices));
  note(plan, LAYER, helper ? `helper: ${helper.path}` : 'helper: none (fallback)');
  note(plan, LAYER, [...netnsFirst, bwrap, ...asInit, ...args, '--', ...inner].map(shellWord).join(' '));
}
