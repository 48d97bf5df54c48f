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
 * escaped, control characters refused) and, for globs, through `globToRegex` (regex
 * metacharacters escaped), so no path can close a string and inject rules.
 */
import { errors, type Policy } from '@fence/core';

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
}

/** Names protected from writes in the working directory (any depth) and in $HOME (SPEC §4.1). */
export const PROTECTED_FILES = ['.bashrc', '.bash_profile', '.zshrc', '.zprofile', '.profile', '.gitconfig', '.gitmodules', '.ripgreprc', '.mcp.json'] as const;
export const PROTECTED_DIRS = ['.vscode', '.idea', '.git/hooks'] as const;
export const GIT_CONFIG = '.git/config';

/** Mach services a command-line program needs (name lookups, TLS trust, logging, time zone). */
const MACH_SERVICES = [
  'com.apple.system.logger',
  'com.apple.system.notification_center',
  'com.apple.system.opendirectoryd.libinfo',
  'com.apple.system.opendirectoryd.membership',
  'com.apple.logd',
  'com.apple.trustd.agent',
  'com.apple.SecurityServer',
  'com.apple.securityd.xpc',
  'com.apple.bsd.dirhelper',
  'com.apple.coreservices.launchservicesd',
  'com.apple.lsd.mapdb',
  'com.apple.FontObjectsServer',
  'com.apple.fonts',
  'com.apple.diagnosticd',
  'com.apple.analyticsd',
  'com.apple.timezoneupdates.tzd',
  'com.apple.PowerManagement.control',
];

/** A Scheme string literal holding `value`. `field` names the policy field for the error. */
export function sbplString(value: string, field = 'path'): string {
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw errors.pathInvalid(field, value.replace(/[\u0000-\u001f\u007f]/g, '?'), 'contains a control character, which a Seatbelt profile cannot express; rename the path');
  }
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

const REGEX_SPECIAL = /[.^$+(){}|\\[\]]/g;

export const isGlob = (path: string): boolean => /[*?[]/.test(path);

/**
 * A glob as an anchored regex matching the path and everything below it: `**` any depth
 * (`dir/**` is the directory itself and its contents), `*` one name part, `?` one character,
 * `[...]` a class. Everything else is literal.
 */
export function globToRegex(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('/**/', i)) {
      out += '(/.*)?/';
      i += 3;
    } else if (glob.startsWith('/**', i) && i + 3 === glob.length) {
      i += 2; // the trailing (/.*)? below covers it
    } else if (glob.startsWith('**', i)) {
      out += '.*';
      i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end === -1) out += '\\[';
      else {
        const body = glob.slice(i + 1, end);
        out += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`.replace(/\\/g, '\\\\');
        i = end;
      }
    } else out += c.replace(REGEX_SPECIAL, '\\$&');
  }
  return `^${out}(/.*)?$`;
}

/** The SBPL filter for a policy path: `(subpath ...)`, or `(regex ...)` for a glob. */
export function pathFilter(path: string, field: string): string {
  return isGlob(path) ? `(regex ${sbplString(globToRegex(path), field)})` : `(subpath ${sbplString(path, field)})`;
}

const escapeRegex = (s: string): string => s.replace(REGEX_SPECIAL, '\\$&');

/** Regexes of the mandatory protected names under the working directory (any depth) and $HOME. */
export function protectedPathRegexes(policy: Pick<Policy, 'cwd' | 'home' | 'filesystem'>): string[] {
  const names: { n: string; dir: boolean }[] = [...PROTECTED_FILES.map((n) => ({ n, dir: false })), ...PROTECTED_DIRS.map((n) => ({ n, dir: true }))];
  if (!policy.filesystem.allowGitConfig) names.push({ n: GIT_CONFIG, dir: false });
  const roots = [...new Set([policy.cwd, policy.home])];
  return roots.flatMap((root) => {
    const base = escapeRegex(root.replace(/\/+$/, ''));
    // In $HOME only at the top; in the working directory at any depth.
    const depth = root === policy.cwd ? '(.*/)?' : '';
    return names.map(({ n, dir }) => `^${base}/${depth}${escapeRegex(n)}${dir ? '(/.*)?' : ''}$`);
  });
}

/**
 * Filters of the directories whose rename or removal would move a protected name out from under
 * its rule: the working directory, $HOME and their ancestors, and every `.git` below the
 * working directory.
 */
function moveGuards(policy: Pick<Policy, 'cwd' | 'home'>): string[] {
  const ancestors = new Set<string>();
  for (const root of [policy.cwd, policy.home]) {
    const parts = root.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) ancestors.add(`/${parts.slice(0, i).join('/')}`);
  }
  const gitDirs = `^${escapeRegex(policy.cwd.replace(/\/+$/, ''))}/(.*/)?\\.git$`;
  return [...[...ancestors].map((p) => `(literal ${sbplString(p)})`), `(regex ${sbplString(gitDirs)})`];
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

function networkRules(policy: Policy, o: SeatbeltProfileOptions): string[] {
  const proxies = [checkPort('network.httpProxyPort', o.httpProxyPort), checkPort('network.socksProxyPort', o.socksProxyPort)];
  const lines = [
    '; network: only the proxies on localhost',
    ...rule('allow', 'network-outbound', proxies.map((p) => `(remote tcp "localhost:${p}")`), undefined),
  ];
  const exposed = o.exposedPorts.map((p) => checkPort('--port', p));
  if (policy.network.allowLocalBinding) {
    lines.push('(allow network-bind (local ip "localhost:*"))', '(allow network-inbound (local ip "localhost:*"))', '(allow network-outbound (local ip "localhost:*"))');
  } else if (exposed.length) {
    lines.push(...rule('allow', 'network-bind', exposed.map((p) => `(local ip "localhost:${p}")`), undefined));
    lines.push(...rule('allow', 'network-inbound', exposed.map((p) => `(local ip "localhost:${p}")`), undefined));
  }
  if (policy.network.allowAllUnixSockets) {
    lines.push('(allow system-socket (socket-domain AF_UNIX))', '(allow network-bind (local unix))', '(allow network-outbound (remote unix))');
  } else if (policy.network.allowUnixSockets.length) {
    lines.push('(allow system-socket (socket-domain AF_UNIX))');
    const sockets = policy.network.allowUnixSockets.map((p, i) => `(remote unix-socket (path-literal ${sbplString(p, `network.allowUnixSockets[${i}]`)}))`);
    lines.push(...rule('allow', 'network-outbound', sockets, undefined));
  }
  return lines;
}

function filesystemRules(policy: Policy, o: SeatbeltProfileOptions): string[] {
  const fs = policy.filesystem;
  const field = (name: string) => (p: string, i: number) => pathFilter(p, `filesystem.${name}[${i}]`);
  const devices = ['/dev/null', '/dev/zero', '/dev/dtracehelper', '/dev/stdout', '/dev/stderr', '/dev/tty'].map((d) => `(literal "${d}")`);
  const protectedFilters = [
    ...fs.denyWrite.map(field('denyWrite')),
    ...protectedPathRegexes(policy).map((r) => `(regex ${sbplString(r)})`),
  ];
  return [
    '; files: read everything but denyRead',
    '(allow file-read*)',
    ...rule('deny', 'file-read*', fs.denyRead.map(field('denyRead')), o.logTag),
    '; files: write only the private tmp and allowWrite',
    ...rule('allow', 'file-write*', [`(subpath ${sbplString(o.tmpDir, 'tmpDir')})`, ...fs.allowWrite.map(field('allowWrite'))], undefined),
    ...rule('allow', 'file-write-data', [...devices, '(regex #"^/dev/ttys[0-9]+$")', '(regex #"^/dev/fd/[0-9]+$")'], undefined),
    '(allow file-ioctl (literal "/dev/tty") (regex #"^/dev/ttys[0-9]+$"))',
    '; files: denyWrite and the protected names win over allowWrite',
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
    '(allow process-fork)',
    '(allow process-info* (target same-sandbox))',
    '(allow signal (target same-sandbox))',
    '(allow mach-priv-task-port (target same-sandbox))',
    '(allow sysctl-read)',
    '(allow user-preference-read)',
    '(allow ipc-posix-shm)',
    '(allow ipc-posix-sem)',
    '(allow iokit-get-properties)',
    '(allow pseudo-tty)',
    ...rule('allow', 'mach-lookup', MACH_SERVICES.map((s) => `(global-name "${s}")`), undefined),
    ...filesystemRules(policy, options),
    ...networkRules(policy, options),
    '',
  ].join('\n');
}
