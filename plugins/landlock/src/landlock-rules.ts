/**
 * The Landlock ruleset Fence asks the in-sandbox helper to enforce, built from the policy and the
 * kernel's ABI. Pure: no file system access; the caller says which paths exist and what they are.
 *
 * Best effort per ABI (each level adds to the one before):
 *   v1 (5.13) file system rights   v2 (5.19) REFER   v3 (6.2) TRUNCATE   v4 (6.7) TCP bind/connect
 *   v5 (6.10) IOCTL_DEV            v6 (6.12) scoping of abstract Unix sockets and signals
 *   v7 (6.15) audit logging of denials after execve (LOG_NEW_EXEC_ON)
 */
import type { LandlockPathRule, LandlockPortRule, LandlockRuleset, Policy } from '@fence/core';

/** LANDLOCK_ACCESS_FS_* (include/uapi/linux/landlock.h). */
export const AccessFs = {
  EXECUTE: 1 << 0,
  WRITE_FILE: 1 << 1,
  READ_FILE: 1 << 2,
  READ_DIR: 1 << 3,
  REMOVE_DIR: 1 << 4,
  REMOVE_FILE: 1 << 5,
  MAKE_CHAR: 1 << 6,
  MAKE_DIR: 1 << 7,
  MAKE_REG: 1 << 8,
  MAKE_SOCK: 1 << 9,
  MAKE_FIFO: 1 << 10,
  MAKE_BLOCK: 1 << 11,
  MAKE_SYM: 1 << 12,
  REFER: 1 << 13,
  TRUNCATE: 1 << 14,
  IOCTL_DEV: 1 << 15,
} as const;

/** LANDLOCK_ACCESS_NET_* (ABI v4). */
export const AccessNet = { BIND_TCP: 1 << 0, CONNECT_TCP: 1 << 1 } as const;

/** LANDLOCK_SCOPE_* (ABI v6). */
export const Scope = { ABSTRACT_UNIX_SOCKET: 1 << 0, SIGNAL: 1 << 1 } as const;

/** landlock_restrict_self() flags (ABI v7). */
export const RestrictSelf = { LOG_SAME_EXEC_OFF: 1 << 0, LOG_NEW_EXEC_ON: 1 << 1, LOG_SUBDOMAINS_OFF: 1 << 2 } as const;

/** The newest ABI this builder knows; a newer kernel gets this ruleset (Landlock is backward compatible). */
export const LANDLOCK_ABI_MAX = 7;

/** The kernel release that introduced each ABI, for messages. */
export const LANDLOCK_ABI_KERNEL: Readonly<Record<number, string>> = {
  1: '5.13', 2: '5.19', 3: '6.2', 4: '6.7', 5: '6.10', 6: '6.12', 7: '6.15',
};

/** Rights that apply to a file itself; anything else on a file rule makes landlock_add_rule fail (EINVAL). */
const FILE_RIGHTS = AccessFs.EXECUTE | AccessFs.WRITE_FILE | AccessFs.READ_FILE | AccessFs.TRUNCATE | AccessFs.IOCTL_DEV;

/** Every file system right the ABI knows: all of them are handled, so nothing is allowed by omission. */
export function handledFs(abi: number): number {
  let rights = (1 << 13) - 1;
  if (abi >= 2) rights |= AccessFs.REFER;
  if (abi >= 3) rights |= AccessFs.TRUNCATE;
  if (abi >= 5) rights |= AccessFs.IOCTL_DEV;
  return rights;
}

export function readExecute(): number {
  return AccessFs.EXECUTE | AccessFs.READ_FILE | AccessFs.READ_DIR;
}

/**
 * Read, write, create, remove, rename and truncate. Execute comes from the rule on `/`, which every
 * path inherits. Device nodes cannot be created (bwrap drops CAP_MKNOD; Landlock keeps it so even if
 * a capability leaked) and ioctl on devices is granted only where needed (see terminalRights).
 */
export function readWrite(abi: number): number {
  const devices = AccessFs.MAKE_CHAR | AccessFs.MAKE_BLOCK | AccessFs.IOCTL_DEV | AccessFs.EXECUTE;
  return handledFs(abi) & ~devices;
}

/** Terminals and /dev/null: interactive programs (shells, editors, `stty`) need ioctl on them. */
export function terminalRights(abi: number): number {
  return readWrite(abi) | (handledFs(abi) & AccessFs.IOCTL_DEV);
}

/**
 * Devices passed through (devices.allow, or /dev itself with devices.mode "host"): read, write and
 * ioctl (a GPU or /dev/fuse is driven by ioctl), never create, remove or rename names there.
 */
export function deviceRights(abi: number): number {
  return (AccessFs.READ_FILE | AccessFs.WRITE_FILE | AccessFs.READ_DIR | AccessFs.IOCTL_DEV) & handledFs(abi);
}

export function fileOnly(rights: number): number {
  return rights & FILE_RIGHTS;
}

export interface PathEntry {
  readonly path: string;
  readonly isDirectory: boolean;
}

/** The device nodes of bwrap's minimal `/dev` that ordinary programs write to. */
export const NEEDED_DEV_NODES: readonly PathEntry[] = [
  ...['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx'].map((path) => ({
    path,
    isDirectory: false,
  })),
  { path: '/dev/pts', isDirectory: true },
  { path: '/dev/shm', isDirectory: true },
];

const TERMINAL_NODES: ReadonlySet<string> = new Set(['/dev/null', '/dev/tty', '/dev/ptmx', '/dev/pts']);

export interface LandlockInput {
  /** ABI reported by the kernel (landlock_create_ruleset with LANDLOCK_CREATE_RULESET_VERSION). */
  readonly abi: number;
  readonly policy: Policy;
  /** Existing allowWrite paths (globs already reduced to a directory by the caller). */
  readonly writablePaths: readonly PathEntry[];
  readonly devNodes: readonly PathEntry[];
  /** Host devices the sandbox shows (see deviceRights); absent: none. */
  readonly passedDevices?: readonly PathEntry[];
  /** Whether the sandbox has its own network namespace. */
  readonly netns: boolean;
  readonly proxyPorts: readonly number[];
  /** `-p` ports: the command must be able to listen on them. */
  readonly exposedPorts: readonly number[];
}

function pathRule(entry: PathEntry, rights: number): LandlockPathRule {
  return { path: entry.path, access: entry.isDirectory ? rights : fileOnly(rights) };
}

function pathRules(abi: number, input: LandlockInput): LandlockPathRule[] {
  const dev = input.devNodes.map((n) => pathRule(n, TERMINAL_NODES.has(n.path) ? terminalRights(abi) : readWrite(abi)));
  return [
    pathRule({ path: '/', isDirectory: true }, readExecute()),
    pathRule({ path: '/tmp', isDirectory: true }, readWrite(abi)),
    ...dev,
    ...(input.passedDevices ?? []).map((d) => pathRule(d, deviceRights(abi))),
    ...input.writablePaths.map((p) => pathRule(p, readWrite(abi))),
  ];
}

/**
 * TCP rules (ABI v4).
 * - connect: only without a network namespace. With one, loopback is all there is and the proxies
 *   are the only way out already; without one, the proxy ports are the only ports the command may
 *   connect to, so a program that ignores the proxy variables still reaches nothing (SPEC §3).
 * - bind: handled unless allowLocalBinding; only the `-p` ports may be bound. With a network
 *   namespace this is defence in depth (a listener there is reachable only from inside); without
 *   one it keeps the command from listening on the host's interfaces.
 */
function netRules(abi: number, input: LandlockInput): { handled: number; ports: LandlockPortRule[] } {
  if (abi < 4) return { handled: 0, ports: [] };
  const ports: LandlockPortRule[] = [];
  let handled = 0;
  if (!input.netns) {
    handled |= AccessNet.CONNECT_TCP;
    for (const port of unique(input.proxyPorts)) ports.push({ port, access: AccessNet.CONNECT_TCP });
  }
  if (!input.policy.network.allowLocalBinding) {
    handled |= AccessNet.BIND_TCP;
    for (const port of unique(input.exposedPorts)) ports.push({ port, access: AccessNet.BIND_TCP });
  }
  return { handled, ports };
}

/** Signals and abstract Unix sockets stay inside the sandbox's Landlock domain (ABI v6). */
function scopes(abi: number, policy: Policy): number {
  if (abi < 6) return 0;
  return Scope.SIGNAL | (policy.network.allowAllUnixSockets ? 0 : Scope.ABSTRACT_UNIX_SOCKET);
}

/**
 * Fence runs unknown programs, so their denials are exactly what should reach the audit log; by
 * default Landlock stops logging at the first execve, which is the helper's own exec (ABI v7).
 */
function restrictFlags(abi: number): number {
  return abi >= 7 ? RestrictSelf.LOG_NEW_EXEC_ON : 0;
}

export function buildLandlockRuleset(input: LandlockInput): LandlockRuleset {
  const abi = Math.min(input.abi, LANDLOCK_ABI_MAX);
  if (abi < 1) throw new RangeError(`Landlock ABI ${input.abi} has no rules; detect() must rule it out`);
  const net = netRules(abi, input);
  return {
    abi,
    handledAccessFs: handledFs(abi),
    handledAccessNet: net.handled,
    scoped: scopes(abi, input.policy),
    restrictFlags: restrictFlags(abi),
    paths: dedupePaths(pathRules(abi, input)),
    ports: net.ports,
  };
}

/**
 * What the policy needs that this ABI cannot enforce, given the sandbox has no network namespace
 * to fall back on. Empty means the ruleset is exact; `--strict` fails otherwise.
 */
export function missingFeatures(input: Pick<LandlockInput, 'abi' | 'netns' | 'policy'>): string[] {
  if (input.netns) return [];
  const missing: string[] = [];
  if (input.abi < 4) {
    missing.push(`no network namespace and Landlock ABI v${input.abi} cannot restrict TCP to the proxy ports (needs ABI v4, kernel ${LANDLOCK_ABI_KERNEL[4]}+)`);
  }
  // Abstract sockets are per network namespace; seccomp refuses AF_UNIX unless Unix sockets are allowed.
  const unixAllowed = input.policy.network.allowUnixSockets.length > 0;
  if (input.abi < 6 && unixAllowed && !input.policy.network.allowAllUnixSockets) {
    missing.push(`no network namespace and Landlock ABI v${input.abi} cannot keep abstract Unix sockets inside the sandbox (needs ABI v6, kernel ${LANDLOCK_ABI_KERNEL[6]}+)`);
  }
  return missing;
}

function unique(ports: readonly number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** One rule per path: a path listed twice (e.g. allowWrite "/tmp") gets the union of its rights. */
function dedupePaths(rules: readonly LandlockPathRule[]): LandlockPathRule[] {
  const byPath = new Map<string, number>();
  for (const r of rules) byPath.set(r.path, (byPath.get(r.path) ?? 0) | r.access);
  return [...byPath].map(([path, access]) => ({ path, access }));
}

function accessLabel(access: number): string {
  const words: string[] = [];
  if (access & (AccessFs.READ_FILE | AccessFs.READ_DIR)) words.push('read');
  if (access & AccessFs.EXECUTE) words.push('execute');
  if (access & AccessFs.WRITE_FILE) words.push('write');
  if (access & AccessFs.IOCTL_DEV) words.push('ioctl');
  return words.join('-') || `0x${access.toString(16)}`;
}

function portLines(rs: LandlockRuleset): string[] {
  const verbs = [
    [AccessNet.CONNECT_TCP, 'connect'],
    [AccessNet.BIND_TCP, 'bind'],
  ] as const;
  return verbs
    .filter(([bit]) => rs.handledAccessNet & bit)
    .map(([bit, verb]) => {
      const ports = rs.ports.filter((p) => p.access & bit).map((p) => p.port);
      return ports.length ? `Allow TCP ${verb}: port ${ports.join(', ')}` : `Deny TCP ${verb}: all ports`;
    });
}

function scopeLine(rs: LandlockRuleset): string[] {
  const names: string[] = [];
  if (rs.scoped & Scope.ABSTRACT_UNIX_SOCKET) names.push('abstract Unix sockets');
  if (rs.scoped & Scope.SIGNAL) names.push('signals');
  return names.length ? [`Scope to the sandbox: ${names.join(', ')}`] : [];
}

/** The `-d` lines for the rules: `Allow read-execute: /`, `Allow TCP connect: port 1080, 3128`, ... */
export function describeRuleset(rs: LandlockRuleset): string[] {
  const flags = rs.restrictFlags & RestrictSelf.LOG_NEW_EXEC_ON ? ['Log denials after execve (LOG_NEW_EXEC_ON)'] : [];
  return [
    ...rs.paths.map((r) => `Allow ${accessLabel(r.access)}: ${r.path}`),
    ...portLines(rs),
    ...scopeLine(rs),
    ...flags,
  ];
}
