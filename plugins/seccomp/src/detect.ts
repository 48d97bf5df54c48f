/**
 * What the machine's seccomp can do: whether the kernel filters at all, which return actions it
 * knows (LOG, 4.14+, is what makes denials visible in the audit log), and for which architecture
 * Fence generates the program.
 */
import { readFile } from 'node:fs/promises';
import type { Availability, FeatureLine } from '@fence/core';
import { addonWith } from '@fence/linux-helper';
import { seccompArchOf, type SeccompArch } from '@fence/syscalls';

/** Return actions by their actions_avail names, in the kernel's order. */
const ACTIONS = ['kill_process', 'kill_thread', 'trap', 'errno', 'user_notif', 'trace', 'log', 'allow'] as const;

export interface SeccompFacts {
  readonly arch: SeccompArch | undefined;
  /** /proc/self/status has a `Seccomp:` line (the kernel has CONFIG_SECCOMP). */
  readonly supported: boolean;
  /** Filters this process already runs under (`Seccomp_filters:`, 5.9+), e.g. a container's. */
  readonly inheritedFilters?: number;
  /** Known return actions; undefined when the kernel cannot list them (before 4.14). */
  readonly actions?: readonly string[];
  /** Actions the kernel logs when a filter asks for it (`kernel.seccomp.actions_logged`). */
  readonly logged?: readonly string[];
  /** Known filter flags; only the native addon can ask. */
  readonly flags?: readonly string[];
}

/** The part of @fence/native's NativeAddon this layer uses (the package is optional). */
interface SeccompProbes {
  seccompActionAvailable(name: (typeof ACTIONS)[number]): boolean;
  seccompFlagsAvailable(): { readonly log: boolean; readonly newListener: boolean; readonly tsync: boolean };
}

/** Probes the running kernel. Never throws: missing files mean missing features. */
export async function probeSeccomp(nodeArch: string = process.arch): Promise<SeccompFacts> {
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const filters = /^Seccomp_filters:\s*(\d+)/m.exec(status)?.[1];
  const native = await nativeProbes();
  // The addon asks seccomp() itself; the sysctl lists the same actions (4.14+).
  const actions =
    tryNative(() => ACTIONS.filter((a) => native?.seccompActionAvailable(a))) ?? (await sysctlList('actions_avail'));
  const flags = tryNative(() => {
    const f = native?.seccompFlagsAvailable();
    const named = { tsync: f?.tsync, log: f?.log, new_listener: f?.newListener };
    return Object.entries(named).filter(([, on]) => on === true).map(([name]) => name);
  });
  return {
    arch: seccompArchOf(nodeArch),
    supported: /^Seccomp:/m.test(status),
    ...optional('inheritedFilters', filters === undefined ? undefined : Number(filters)),
    ...optional('actions', actions),
    ...optional('logged', await sysctlList('actions_logged')),
    ...optional('flags', flags),
  };
}

/** A native answer, or undefined when the addon is missing, fails, or knows nothing (empty). */
function tryNative(ask: () => readonly string[] | undefined): readonly string[] | undefined {
  try {
    const answer = ask();
    return answer && answer.length > 0 ? answer : undefined;
  } catch {
    return undefined;
  }
}

/** A space-separated list under /proc/sys/kernel/seccomp (4.14+), or undefined. */
const sysctlList = (name: string): Promise<string[] | undefined> =>
  readFile(`/proc/sys/kernel/seccomp/${name}`, 'utf8').then(
    (text) => text.trim().split(/\s+/).filter(Boolean),
    () => undefined,
  );

const optional = <K extends string, V>(key: K, value: V | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, V>>;

/** @fence/native may be absent (not installed, or not built for this machine). */
const nativeProbes = (): Promise<SeccompProbes | undefined> => addonWith<SeccompProbes>('seccompActionAvailable', 'seccompFlagsAvailable');

/** Turns the facts into the layer's availability and its feature-report line. */
export function seccompAvailability(found: SeccompFacts): Availability {
  const line = (mark: FeatureLine['mark'], value: string, consequence: string): FeatureLine[] => [
    { mark, name: 'Seccomp', value, consequence },
  ];
  if (!found.arch) {
    const reason = 'no seccomp program for this architecture (Fence filters x86_64 and aarch64)';
    return { status: 'absent', reason, features: line('✗', 'unsupported architecture', `${reason}: syscalls are not filtered`) };
  }
  if (!found.supported) {
    const reason = 'kernel built without seccomp (CONFIG_SECCOMP)';
    return { status: 'absent', reason, features: line('✗', 'no', `${reason}: ptrace, mount, bpf and the rest stay reachable`) };
  }
  // Denials are logged with the LOG action's kernel support and SECCOMP_FILTER_FLAG_LOG (both 4.14).
  const log = (found.actions?.includes('log') ?? false) && (found.flags?.includes('log') ?? true);
  const value =
    (found.actions ? `actions ${found.actions.join(' ')}` : 'actions unknown') +
    (found.flags ? `; flags ${found.flags.join(' ')}` : '') +
    (found.inheritedFilters ? `; ${found.inheritedFilters} inherited filter(s)` : '');
  // A supervisor needs the USER_NOTIF action (5.0) and a listener from the filter (5.0; 5.5 for ADDFD).
  const notify = (found.actions?.includes('user_notif') ?? false) && (found.flags?.includes('new_listener') ?? false);
  const facts = {
    arch: found.arch,
    log,
    notify,
    actions: found.actions?.join(' ') ?? '',
    logged: found.logged?.join(' ') ?? '',
    inheritedFilters: found.inheritedFilters ?? 0,
  };
  // Without a supervisor the denials are only in the machine's audit log, which -m does not read.
  const unseen = notify ? [] : ['seccomp denials: needs Linux 5.0+ (seccomp user notification) and the native addon (npm rebuild @fence/native)'];
  if (log) {
    const logsErrno = found.logged?.includes('errno') ?? true;
    const consequence = notify
      ? 'dangerous syscalls fail with EPERM; -m shows each denial to any user (supervisor)'
      : logsErrno
        ? 'dangerous syscalls fail with EPERM; denials are logged to the audit log'
        : 'dangerous syscalls fail with EPERM; denials are not logged: add errno to kernel.seccomp.actions_logged';
    return {
      status: 'available',
      summary: 'seccomp(log)',
      features: line('✓', value, consequence),
      facts,
      unseen,
    };
  }
  const reason = 'kernel cannot log seccomp denials (needs 4.14+)';
  return {
    status: 'degraded',
    reason,
    summary: 'seccomp',
    features: line('○', value, 'dangerous syscalls fail with EPERM, but denials are not logged'),
    warning: `${reason}: dangerous syscalls still fail with EPERM, but -m cannot show those denials`,
    facts,
    unseen,
  };
}

/** detect() of the plugin: probe, then decide. */
export async function detectSeccomp(): Promise<Availability> {
  if (process.platform !== 'linux') return { status: 'absent', reason: 'seccomp is Linux-only' };
  return seccompAvailability(await probeSeccomp());
}
