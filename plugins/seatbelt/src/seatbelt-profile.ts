/**
 * The Seatbelt (SBPL) profile of the macOS sandbox. Pure: no fs, no child_process.
 *
 * Deny by default. Seatbelt applies the LAST matching rule, so each section allows first and
 * denies after: reads are allowed except denyRead; writes only to allowWrite and the private tmp,
 * then denyWrite and the mandatory protected names are denied again; the network reaches only the
 * two proxy ports on localhost. Every deny carries the session's log tag so `log stream` can tell
 * this sandbox's denials from the rest of the machine's.
 *
 * Every path the policy holds goes through `sbplString` (a Scheme string literal: `\\` and `\"`
 * escaped, control characters refused) and, for globs, through core's `globToPosixRegex` (regex
 * metacharacters escaped), so no path can close a string and inject rules. The paths are core's
 * filesystem model (policy.paths), resolved once for every layer.
 */
import { errors, escapeRegex, gitProtectedNames, globToPosixRegex, PROTECTED_DIRS, PROTECTED_FILES, readableRoots, type PathRule, type Policy } from '@fence/core';
import { DARWIN_PATHS } from './platform-paths.js';
import { systemRules } from './seatbelt-system.js';

export interface SeatbeltProfileOptions {
  /** Port of the HTTP proxy on the host's localhost. */
  readonly httpProxyPort: number;
  /** Port of the SOCKS5 proxy on the host's localhost. */
  readonly socksProxyPort: number;
  /** Ports the command may listen on for the host (-p). */
  readonly exposedPorts: readonly number[];
  /** The command's private temporary directory (its TMPDIR), writable. */
  readonly tmpDir: string;
  /** Appended to every denial message, to find this sandbox's denials in the log. */
  readonly logTag?: string;
  /** Files no process may execute (the command policy's runtime denials: plan.exec.unexecutable). */
  readonly unexecutable?: readonly string[];
}

/** A Scheme string literal holding `value`. `field` names the policy field for the error. */
export function sbplString(value: string, field = 'path'): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw errors.pathInvalid(field, value.replace(/[\u0000-\u001f\u007f]/g, '?'), 'contains a control character, which a Seatbelt profile cannot express; rename the path');
  }
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The SBPL filter for a rule's path: `(subpath ...)`, or `(regex ...)` for a glob; `path` is one spelling of it. */
function pathFilter(rule: PathRule, path: string): string {
  const field = `filesystem.${rule.field}[${rule.index}]`;
  return rule.glob ? `(regex ${sbplString(globToPosixRegex(path), field)})` : `(subpath ${sbplString(path, field)})`;
}

/** A rule's filters, in both spellings of its path (see bothSpellings). */
const ruleFilters = (rules: readonly PathRule[]): string[] => rules.flatMap((r) => bothSpellings(r.glob?.pattern ?? r.real).map((p) => pathFilter(r, p)));

/**
 * macOS keeps `/tmp`, `/var` and `/etc` as symlinks into `/private`, and Seatbelt matches the
 * resolved path: a rule on `/var/folders/…` never matches. Each such path is given in both
 * spellings, so a policy written either way means what it says.
 */
export function bothSpellings(path: string): string[] {
  const m = /^\/(?:private\/)?(tmp|var|etc)(\/.*)?$/.exec(path);
  if (!m) return [path];
  const rest = `${m[1]}${m[2] ?? ''}`;
  return [`/private/${rest}`, `/${rest}`];
}

/**
 * Regexes of the mandatory protected names (core's list, the one Linux enforces) under the
 * working directory (any depth) and at the top of $HOME; the git names in every git directory
 * (a `.git`, and its submodules' under `modules/` and linked worktrees' under `worktrees/`).
 */
export function protectedPathRegexes(policy: Pick<Policy, 'cwd' | 'home' | 'filesystem'>): string[] {
  const files = PROTECTED_FILES.map(escapeRegex);
  const dirs = PROTECTED_DIRS.map(escapeRegex);
  const git = gitProtectedNames(policy.filesystem.allowGitConfig).map(escapeRegex);
  const roots = [...new Set([policy.cwd, policy.home])];
  return roots.flatMap((root) => {
    const base = escapeRegex(root.replace(/\/+$/, ''));
    // In $HOME only at the top; in the working directory at any depth.
    const depth = root === policy.cwd ? '(.*/)?' : '';
    return [
      `^${base}/${depth}(${files.join('|')})$`,
      `^${base}/${depth}(${dirs.join('|')})(/.*)?$`,
      // Not `refs/heads/config`: a branch may be called that; only the git directory and its submodules' and worktrees'.
      `^${base}/${depth}\\.git/((modules|worktrees)/.*/)?(${git.join('|')})(/.*)?$`,
    ];
  });
}

/** `/a/b/c` → `/a`, `/a/b` (not `/`, not the path itself). */
function ancestors(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/**
 * Filters of what must not be renamed or removed, because a protected path would move out from
 * under its rule (`mv ~/.ssh ~/x; cat ~/x/id_rsa`): every denyRead path (and what is inside it),
 * the ancestors of every denyRead and denyWrite path (of a glob's fixed prefix), the working
 * directory, $HOME and their ancestors, and every `.git` below the working directory.
 */
function moveGuards(policy: Policy): string[] {
  const fs = policy.paths;
  // A glob's base is guarded itself too: renaming it moves every match.
  const guarded = (r: PathRule) => bothSpellings(r.real).flatMap((p) => (r.glob && p !== '/' ? [p, ...ancestors(p)] : ancestors(p)));
  const dirs = new Set<string>([policy.cwd, policy.home].filter((p) => p !== '/'));
  for (const a of [policy.cwd, policy.home].flatMap(ancestors)) dirs.add(a);
  for (const r of [...fs.denyRead, ...fs.denyWrite]) for (const a of guarded(r)) dirs.add(a);
  const gitDirs = `^${escapeRegex(policy.cwd.replace(/\/+$/, ''))}/(.*/)?\\.git$`;
  return [...ruleFilters(fs.denyRead), ...[...dirs].sort().map((p) => `(literal ${sbplString(p)})`), `(regex ${sbplString(gitDirs)})`];
}

function rule(action: 'allow' | 'deny', operation: string, filters: readonly string[], tag: string | undefined): string[] {
  if (filters.length === 0) return [];
  const message = action === 'deny' && tag ? ` (with message ${sbplString(tag, 'logTag')})` : '';
  return [`(${action} ${operation}${message}`, ...filters.map((f) => `  ${f}`), ')'];
}

function checkPort(name: string, port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw errors.flagInvalid(name, `port ${port} is not in 1..65535`);
  return port;
}

/**
 * Seatbelt's `localhost` is 127.0.0.1 and ::1 only; a dual-stack socket (Java, Node's default
 * `listen`) bound to 127.0.0.1 is ::ffff:127.0.0.1 to it, and SBPL names no other host than `*`.
 * So the LOCAL side of a bind or of an inbound connection is written `*`: binding reaches no one,
 * and a server the command binds on all interfaces is the documented cost of allowLocalBinding
 * (docs/security.md). The REMOTE side of outbound connections stays `localhost`: `*` there would
 * reach any host on that port.
 */
function networkRules(policy: Policy, o: SeatbeltProfileOptions): string[] {
  const proxies = [checkPort('network.httpProxyPort', o.httpProxyPort), checkPort('network.socksProxyPort', o.socksProxyPort)];
  const lines = [
    '; network: only the proxies on localhost',
    ...rule('allow', 'network-outbound', proxies.map((p) => `(remote tcp "localhost:${p}")`), undefined),
  ];
  // The host's own loopback ports the policy lists (a local database): on macOS the command shares
  // the host's network, so these are the host's 127.0.0.1 and ::1 ports themselves.
  const local = policy.network.allowLocalOutbound ? policy.network.allowLocalOutboundPorts.map((p) => checkPort('network.allowLocalOutboundPorts', p)) : [];
  if (local.length) {
    lines.push('; network.allowLocalOutboundPorts: these ports of the host\'s loopback', ...rule('allow', 'network-outbound', local.map((p) => `(remote tcp "localhost:${p}")`), undefined));
  }
  const exposed = o.exposedPorts.map((p) => checkPort('--port', p));
  if (policy.network.allowLocalBinding) {
    lines.push('(allow network-bind network-inbound (local ip "*:*"))', '(allow network-outbound (remote ip "localhost:*"))');
  } else if (exposed.length) {
    lines.push(...rule('allow', 'network-bind network-inbound', exposed.map((p) => `(local ip "*:${p}")`), undefined));
  }
  if (policy.network.allowAllUnixSockets) {
    lines.push('(allow system-socket (socket-domain AF_UNIX))', '(allow network-bind (local unix))', '(allow network-outbound (remote unix))');
  } else if (policy.network.allowUnixSockets.length) {
    lines.push('(allow system-socket (socket-domain AF_UNIX))');
    const sockets = policy.network.allowUnixSockets.flatMap((p, i) => bothSpellings(p).map((q) => `(remote unix-socket (path-literal ${sbplString(q, `network.allowUnixSockets[${i}]`)}))`));
    lines.push(...rule('allow', 'network-outbound', sockets, undefined));
  }
  return lines;
}

/** Terminals: the controlling one, pseudo-terminals the command opens (/dev/ptmx, script, expect). */
const TERMINAL_RULES = [
  '(allow pseudo-tty)',
  '(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))',
  '(allow file-write-data file-ioctl (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
];

/**
 * Reads: everything, or under read isolation (defaultDenyRead) only beneath core's readable roots
 * and the private tmp. Metadata stays readable everywhere, as path lookups need it (a name's
 * existence and attributes show, never its content or a directory's entries). Seatbelt cannot
 * tell listing a directory from reading it, so allowExecute reads like allowRead here.
 */
function readRules(policy: Policy, o: SeatbeltProfileOptions): string[] {
  const roots = readableRoots(policy, DARWIN_PATHS, (p) => p);
  if (!roots) return ['; files: read everything but denyRead', '(allow file-read*)'];
  const filters = [...roots.map((r) => r.path), o.tmpDir].flatMap(bothSpellings).map((p) => `(subpath ${sbplString(p)})`);
  return ['; files: read only the readable paths (defaultDenyRead), and metadata for path lookups', '(allow file-read-metadata)', ...rule('allow', 'file-read*', [...new Set(filters)], undefined)];
}

function filesystemRules(policy: Policy, o: SeatbeltProfileOptions): string[] {
  const fs = policy.paths;
  const devices = ['/dev/null', '/dev/zero', '/dev/dtracehelper', '/dev/stdout', '/dev/stderr'].map((d) => `(literal "${d}")`);
  const protectedFilters = [...ruleFilters(fs.denyWrite), ...protectedPathRegexes(policy).map((r) => `(regex ${sbplString(r)})`)];
  return [
    ...readRules(policy, o),
    ...rule('deny', 'file-read*', ruleFilters(fs.denyRead), o.logTag),
    '; files: write only the private tmp and allowWrite',
    ...rule('allow', 'file-write*', [...bothSpellings(o.tmpDir).map((t) => `(subpath ${sbplString(t, 'tmpDir')})`), ...ruleFilters(fs.allowWrite)], undefined),
    ...rule('allow', 'file-write-data', [...devices, '(regex #"^/dev/fd/[0-9]+$")'], undefined),
    ...TERMINAL_RULES,
    '; files: denyWrite and the protected names win over allowWrite; nothing protected moves away',
    ...rule('deny', 'file-write*', protectedFilters, o.logTag),
    ...rule('deny', 'file-write-unlink', moveGuards(policy), o.logTag),
  ];
}

/** The complete profile for `sandbox-exec -p`. */
export function buildSeatbeltProfile(policy: Policy, options: SeatbeltProfileOptions): string {
  const tag = options.logTag;
  return [
    '(version 1)',
    tag ? `(deny default (with message ${sbplString(tag, 'logTag')}))` : '(deny default)',
    '; processes: run programs, signal and inspect only this sandbox',
    '(allow process-exec)',
    ...rule('deny', 'process-exec', (options.unexecutable ?? []).map((p) => `(literal ${sbplString(p, 'command.deny')})`), tag),
    '(allow process-fork)',
    '(allow process-info* (target same-sandbox))',
    '(allow signal (target same-sandbox))',
    '(allow mach-priv-task-port (target same-sandbox))',
    ...systemRules(policy.network.allowedDomains.length > 0),
    ...filesystemRules(policy, options),
    ...networkRules(policy, options),
    '',
  ].join('\n');
}
