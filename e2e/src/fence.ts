/**
 * Runs the real `fence` command (the installed bin) as root or as an unprivileged user
 * (uid/gid 65534 via setpriv), in a workspace that user owns.
 */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's bin: a shell launcher that starts Node from the CLI's startup snapshot when one is built. */
export const FENCE_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../packages/cli/bin/fence');
export const NOBODY = 65534;
export type User = 'root' | 'nobody';
/** Who the end-to-end tests run as: root and uid 65534 when this process may switch to it. */
export const USERS: readonly User[] = (() => {
  if (process.getuid?.() !== 0) return ['root'];
  // A checkout under a private directory (e.g. /root) cannot be run by uid 65534: say so loudly.
  const probe = spawnSync('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'test', '-x', FENCE_BIN]);
  if (probe.status === 0) return ['root', 'nobody'];
  console.warn(`e2e: the uid ${NOBODY} runs are SKIPPED: that user cannot execute ${FENCE_BIN} (check the directory permissions)`);
  return ['root'];
})();

export const hasProgram = (name: string) => spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;

export interface Result {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Workspace {
  readonly user: User;
  /** The working directory (owned by the user). */
  readonly dir: string;
  /** A HOME owned by the user. */
  readonly home: string;
  readonly cleanup: () => void;
}

export function workspace(user: User): Workspace {
  const root = realpathSync(mkdtempSync(join(tmpdir(), `fence-e2e-${user}-`)));
  const dir = join(root, 'work');
  const home = join(root, 'home');
  mkdirSync(dir);
  mkdirSync(home);
  if (user === 'nobody') {
    chmodSync(root, 0o755);
    for (const d of [dir, home]) chownSync(d, NOBODY, NOBODY);
  }
  const cleanup = () => {
    for (const pid of proxyServicePids(home)) process.kill(pid, 'SIGTERM');
    rmSync(root, { recursive: true, force: true });
  };
  return { user, dir, home, cleanup };
}

/**
 * The live shared proxy services of a home (each names its pid in its lock file, in Fence's cache
 * directory): a workspace's services end with it instead of idling for a minute.
 */
export function proxyServicePids(home: string): number[] {
  const dir = join(home, '.cache/fence/proxy');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.lock'))
    .map((f) => Number(readFileSync(join(dir, f), 'utf8')))
    // A SIGKILLed service leaves its pid behind: only a process that is a service is one.
    .filter((pid) => pid > 0 && isProxyService(pid));
}

function isProxyService(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('--internal-proxy-service');
  } catch {
    return false;
  }
}

/** Writes `fence.json` in the workspace (owned by its user), so `fence` discovers it. */
export function writeSettings(ws: Workspace, settings: object): string {
  const file = join(ws.dir, 'fence.json');
  writeFileSync(file, JSON.stringify(settings));
  own(ws, file);
  return file;
}

/** Owns `path` by the workspace's user (for files a test creates as root). */
export function own(ws: Workspace, path: string): void {
  if (ws.user === 'nobody') chownSync(path, NOBODY, NOBODY);
}

/** `argv` as `user`, with these supplementary groups (none by default for uid 65534, root's own for root). */
export function userArgv(user: User, argv: readonly string[], groups?: readonly number[]): string[] {
  const setGroups = groups ? [`--groups=${groups.join(',')}`] : [];
  if (user === 'nobody') return ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, ...(groups ? setGroups : ['--clear-groups']), ...argv];
  return groups ? ['setpriv', ...setGroups, ...argv] : [...argv];
}

/** Runs `git` on the host as the workspace's user, with its HOME and an identity: what the user does after a run. */
export function hostGitResult(ws: Workspace, cwd: string, ...args: string[]): SpawnSyncReturns<string> {
  const [cmd, ...rest] = userArgv(ws.user, ['git', ...args]);
  const identity = { GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@b', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@b' };
  return spawnSync(cmd!, rest, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: ws.home, ...identity } });
}

/** `hostGitResult`'s output; a failing git throws with its stderr. */
export function hostGit(ws: Workspace, cwd: string, ...args: string[]): string {
  const r = hostGitResult(ws, cwd, ...args);
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Calls `then` once `path` exists (polled every 20 ms): a host-side step while a sandboxed command waits. */
export function whenExists(path: string, then: () => void): void {
  const poll = setInterval(() => {
    if (!existsSync(path)) return;
    clearInterval(poll);
    then();
  }, 20);
}

export interface FenceOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string>;
  readonly input?: string;
  readonly timeoutMs?: number;
  /**
   * A resolv.conf for the host side of this run (Fence's proxies resolve with it): `fence` runs in
   * a mount namespace of its own where it is bound over /etc/resolv.conf. Needs root (this process).
   */
  readonly resolvConf?: string;
  /**
   * Makes the host's /etc/resolv.conf a symlink to this path for this run (an overlay on /etc in
   * the same mount namespace, as systemd-resolved's or resolvconf's link). Needs root.
   */
  readonly resolvConfLink?: string;
  /**
   * A second mount for this run: `from` bound at `at` (an existing directory), in a mount
   * namespace of its own, as container volumes and devcontainers make them. Needs root.
   */
  readonly secondMount?: { readonly from: string; readonly at: string };
  /** Runs `fence` in a pid namespace of its own, with its own /proc, as in a container. Needs root. */
  readonly pidNamespace?: boolean;
  /** Called with the spawned process (e.g. to send signals). */
  readonly onSpawn?: (child: ReturnType<typeof spawn>) => void;
  /** Runs `fence` in these supplementary groups (setpriv --groups). */
  readonly groups?: readonly number[];
}

/** An overlay on /etc whose upper layer holds only resolv.conf -> $0, on a tmpfs of this namespace. */
const LINK_RESOLV_CONF = [
  'd=$(mktemp -d) && mount -t tmpfs tmpfs "$d" && mkdir "$d/u" "$d/w" && ln -s "$0" "$d/u/resolv.conf"',
  'mount -t overlay overlay -o "lowerdir=/etc,upperdir=$d/u,workdir=$d/w" /etc && exec "$@"',
].join(' && ');

export function fence(ws: Workspace, args: readonly string[], opts: FenceOptions = {}): Promise<Result> {
  const argv = userArgv(ws.user, [FENCE_BIN, ...args], opts.groups);
  const [cmd, ...rest] = opts.resolvConf
    ? ['unshare', '--mount', 'sh', '-c', 'mount --bind "$0" /etc/resolv.conf && exec "$@"', opts.resolvConf, ...argv]
    : opts.resolvConfLink
      ? ['unshare', '--mount', 'sh', '-c', LINK_RESOLV_CONF, opts.resolvConfLink, ...argv]
      : opts.secondMount
        ? ['unshare', '--mount', 'sh', '-c', 'mount --bind "$0" "$1" && shift && exec "$@"', opts.secondMount.from, opts.secondMount.at, ...argv]
        : opts.pidNamespace
          ? ['unshare', '--pid', '--fork', '--mount-proc', ...argv]
          : argv;
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: ws.home, LANG: 'C.UTF-8', ...opts.env };
  const child = spawn(cmd!, rest, { cwd: opts.cwd ?? ws.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
  opts.onSpawn?.(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end(opts.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
  return new Promise((resolvePromise, reject) => {
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolvePromise({ status, signal, stdout, stderr });
    });
  });
}
