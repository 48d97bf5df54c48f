/**
 * Detection: is bwrap installed, which version, and can it really create the user and network
 * namespaces here (containers often forbid one or both)? Probes run real bwrap sandboxes; the
 * kernel caches detection per process, so a second session pays nothing.
 */
import { release } from 'node:os';
import { processProbe, type Availability, type FeatureLine, type ProbeResult } from '@fence/core';
import { limitsFeature } from './cgroup-plan.js';
import { usableCgroupBases } from './cgroup.js';
import { CAPTURE_PORT } from '@fence/linux-helper';
import { nativeHelper } from './native.js';

export const BWRAP_INSTALL = 'apt install bubblewrap';
/** What the sandbox lacks without fence-launch. */
const HELPER_MISSING = 'no Landlock, no limits, and network policies (allowed domains, -p) are refused';
/** The message for a missing bwrap; the CLI prints it as `fence: <hint>` and exits 1. */
export const bwrapInstallHint = `bubblewrap (bwrap) is not installed; install it with: ${BWRAP_INSTALL}`;

/** The probes detection needs (the shape of core's FeatureProbe, so a host can substitute one). */
export interface Prober {
  which(program: string): string | undefined;
  run(argv: readonly string[], timeoutMs?: number): ProbeResult;
}


export interface BwrapFacts {
  readonly path: string;
  readonly version: string;
  readonly userns: boolean;
  readonly netns: boolean;
  readonly disableUserns: boolean;
  /** `--bind-fd`/`--ro-bind-fd` (bubblewrap 0.10, backported to Debian 12's 0.8.0): Fence binds nothing by name without it. */
  readonly bindFd: boolean;
  readonly helper: boolean;
  /** The helper can make the capture's user and network namespace (`fence-launch --netns`) and bwrap runs in it. */
  readonly captureNetns: boolean;
}

const firstLine = (r: ProbeResult): string => (r.stderr || r.error || `exit ${r.status}`).trim().split('\n')[0] ?? '';

/** Runs the probes. Undefined when bwrap is not installed. */
export async function probeBwrap(prober: Prober = processProbe): Promise<{ facts: BwrapFacts; usernsError?: string; netnsError?: string; captureError?: string } | undefined> {
  const path = prober.which('bwrap');
  if (!path) return undefined;
  const version = /(\d+\.\d+(?:\.\d+)?)/.exec(prober.run([path, '--version']).stdout)?.[1] ?? 'unknown';
  // A probe without a root mount always fails, whatever the kernel allows.
  const userns = prober.run([path, '--ro-bind', '/', '/', '--unshare-user', 'true']);
  const netns = prober.run([path, '--ro-bind', '/', '/', '--unshare-user', '--unshare-net', 'true']);
  const help = prober.run([path, '--help']);
  const native = await nativeHelper();
  const helper = native !== undefined;
  // Where unprivileged user namespaces are restricted per program (Ubuntu's AppArmor policy),
  // bwrap may have a profile the helper lacks: the capture's namespace is tried as it is made.
  const capture = native && netns.status === 0 ? prober.run([native.path, '--netns', String(CAPTURE_PORT), '--', path, '--ro-bind', '/', '/', '--unshare-user', 'true']) : undefined;
  return {
    facts: {
      path,
      version,
      userns: userns.status === 0,
      netns: netns.status === 0,
      disableUserns: `${help.stdout}${help.stderr}`.includes('--disable-userns'),
      bindFd: `${help.stdout}${help.stderr}`.includes('--ro-bind-fd'),
      helper,
      captureNetns: capture?.status === 0,
    },
    usernsError: userns.status === 0 ? undefined : firstLine(userns),
    netnsError: netns.status === 0 ? undefined : firstLine(netns),
    captureError: capture === undefined || capture.status === 0 ? undefined : firstLine(capture),
  };
}

function featureLines(p: Awaited<ReturnType<typeof probeBwrap>>): FeatureLine[] {
  const kernel: FeatureLine = { mark: '✓', name: 'Kernel version', value: release(), consequence: 'namespaces, seccomp and Landlock support depend on it' };
  if (!p) {
    return [
      kernel,
      { mark: '✗', name: 'Bubblewrap (bwrap)', value: 'not installed', consequence: `Fence cannot run on Linux; install it with: ${BWRAP_INSTALL}` },
    ];
  }
  const f = p.facts;
  return [
    kernel,
    f.bindFd
      ? { mark: '✓', name: 'Bubblewrap (bwrap)', value: f.version, consequence: 'namespace and mount isolation, every path bound by descriptor' }
      : { mark: '✗', name: 'Bubblewrap (bwrap)', value: f.version, consequence: 'no --bind-fd: Fence cannot run; install bubblewrap 0.10 or later' },
    f.helper
      ? { mark: '✓', name: 'Native helper (fence-launch)', value: 'built', consequence: 'runs the proxy bridges, Landlock, limits and seccomp inside the sandbox' }
      : { mark: '○', name: 'Native helper (fence-launch)', value: 'not built', consequence: `${HELPER_MISSING}; build it: npm rebuild @fence/native (needs cmake and g++)` },
    f.userns
      ? { mark: '✓', name: 'User namespaces', value: 'usable', consequence: 'the sandbox needs no privileges; root outside has no capabilities inside' }
      : { mark: '✗', name: 'User namespaces', value: 'unusable', consequence: `bwrap cannot build the sandbox: ${p.usernsError}` },
    f.netns
      ? { mark: '✓', name: 'Network namespace (--unshare-net)', value: 'usable', consequence: 'only loopback inside; the proxies are the only way out' }
      : { mark: '○', name: 'Network namespace (--unshare-net)', value: 'unusable', consequence: 'network not isolated: only programs that honour the proxy variables are filtered (Landlock ABI ≥ 4 limits TCP connect)' },
    f.captureNetns
      ? { mark: '✓', name: 'Captured connections (fence-launch --netns)', value: 'usable', consequence: 'programs that ignore the proxy variables reach allowed names through a DNS stub and the proxies' }
      : { mark: '○', name: 'Captured connections (fence-launch --netns)', value: 'unusable', consequence: `only programs that honour the proxy variables reach allowed names${p.captureError ? ` (${p.captureError})` : ''}` },
    limitsFeature({ bases: usableCgroupBases(), helper: f.helper, root: process.getuid?.() === 0 }),
  ];
}

/** The plugin's availability from the probes. */
export async function detectBwrap(prober: Prober = processProbe): Promise<Availability> {
  const p = await probeBwrap(prober);
  const features = featureLines(p);
  if (!p) return { status: 'absent', reason: bwrapInstallHint, features };
  const { facts } = p;
  const plain = { ...facts, ...(p.captureError !== undefined && { captureError: p.captureError }) };
  if (!facts.userns) {
    return {
      status: 'absent',
      reason: `bwrap cannot create a user namespace (${p.usernsError}); allow unprivileged user namespaces (sysctl user.max_user_namespaces, kernel.apparmor_restrict_unprivileged_userns=0)`,
      features,
      facts: plain,
    };
  }
  if (!facts.bindFd) {
    return {
      status: 'absent',
      reason: `bwrap ${facts.version} cannot bind by descriptor (--bind-fd), so a path swapped for a symlink while Fence starts could redirect a mount; install bubblewrap 0.10 or later (or your distribution's security update, e.g. Debian 12's 0.8.0-2+deb12u1)`,
      features,
      facts: plain,
    };
  }
  const summary = facts.netns ? 'bwrap(network,pid,fs)' : 'bwrap(pid,fs)';
  if (!facts.netns) {
    return {
      status: 'degraded',
      reason: `no network namespace (${p.netnsError}): --unshare-net is skipped, so the network is not isolated; run with CAP_NET_ADMIN (docker --cap-add=NET_ADMIN) or as root`,
      summary,
      features,
      facts: plain,
    };
  }
  if (!facts.helper) {
    return {
      status: 'degraded',
      reason: `the native helper (@fence/native) is not built: ${HELPER_MISSING}; build it: npm rebuild @fence/native (needs cmake and g++)`,
      summary,
      features,
      facts: plain,
    };
  }
  return { status: 'available', summary, features, facts: plain };
}
