/**
 * Which mechanism holds each resource limit, and what the per-run cgroup must contain (pure: the
 * machine's facts come in as text and lists, cgroup.ts acts on the result).
 *
 * rlimits are per process (RLIMIT_AS, RLIMIT_CPU) or per user (RLIMIT_NPROC, which root is exempt
 * from), so a command escapes them by forking. A cgroup holds the sandbox as a whole: every
 * process bwrap's init starts is born in it. cgroup v2 is used when the unified hierarchy offers
 * every controller the limits need; otherwise each limit takes its v1 hierarchy (pids, memory,
 * cpuacct), then v2 if it has that controller, and an rlimit when no cgroup can be written.
 */
import type { FeatureLine, Policy } from '@fence/core';
import type { RlimitResource } from '@fence/linux-helper';

export type LimitField = 'processes' | 'memoryMB' | 'cpuSeconds';
const CGROUP_FIELDS: readonly LimitField[] = ['processes', 'memoryMB', 'cpuSeconds'];

export type Mechanism = 'cgroup v1' | 'cgroup v2' | 'rlimit' | 'none';

/** A hierarchy Fence runs in, and the directory a per-run cgroup would be made in. */
export interface CgroupBase {
  readonly version: 1 | 2;
  readonly dir: string;
  /** v1: the hierarchy's controllers; v2: those its cgroup.subtree_control hands to children. */
  readonly controllers: readonly string[];
}

/** A file of the per-run cgroup to write before the command starts. */
export interface CgroupSetting {
  readonly file: string;
  readonly value: string;
  /** Absent on some kernels (no swap accounting): skipped then. */
  readonly optional?: boolean;
}

/** A file of the per-run cgroup that tells whether a limit was reached. */
export interface CgroupWatch {
  readonly field: LimitField;
  readonly file: string;
}

export interface PlannedCgroup {
  readonly version: 1 | 2;
  /** Where the per-run cgroup is made. */
  readonly base: string;
  readonly settings: readonly CgroupSetting[];
  readonly watches: readonly CgroupWatch[];
}

export interface LimitChoice {
  /** openFiles is RLIMIT_NOFILE, per process by definition (as `ulimit -n`), whatever the machine. */
  readonly field: LimitField | 'openFiles';
  readonly mechanism: Mechanism;
  /** When it does not hold for the sandbox as a whole: what the user gets instead. */
  readonly consequence?: string;
}

export interface LimitsPlan {
  readonly cgroups: readonly PlannedCgroup[];
  readonly choices: readonly LimitChoice[];
  /** rlimits a cgroup replaces: the helper must not set them (RLIMIT_AS breaks big reservations). */
  readonly replaced: readonly RlimitResource[];
}

export interface MachineFacts {
  /** Usable (writable) hierarchies, from cgroupBases() filtered by cgroup.ts. */
  readonly bases: readonly CgroupBase[];
  /** The native helper is there to set rlimits. */
  readonly helper: boolean;
  readonly root: boolean;
}

const RLIMIT: Record<LimitField, RlimitResource> = { processes: 'NPROC', memoryMB: 'AS', cpuSeconds: 'CPU' };
/** The controller each limit needs; v2 reports CPU time in cpu.stat without any controller. */
const CONTROLLER: Record<LimitField, { 1: string; 2: string | undefined }> = {
  processes: { 1: 'pids', 2: 'pids' },
  memoryMB: { 1: 'memory', 2: 'memory' },
  cpuSeconds: { 1: 'cpuacct', 2: undefined },
};

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));

/**
 * The hierarchies of /proc/self/mountinfo that hold a controller Fence uses, each with the
 * directory of this process's cgroup (/proc/self/cgroup). v1 makes the per-run cgroup inside
 * Fence's own, so the limits nest in whatever limits Fence itself runs under; v2 beside it (a v2
 * cgroup holding processes cannot hand controllers to children), or in the root it runs in.
 */
export function cgroupBases(mountinfo: string, selfCgroup: string): CgroupBase[] {
  const own = new Map<string, string>();
  for (const line of selfCgroup.split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (m) for (const c of m[1] === '' ? ['<v2>'] : m[1]!.split(',')) own.set(c, m[2]!);
  }
  const bases: CgroupBase[] = [];
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    const [fstype, , options = ''] = f.slice(sep + 1);
    const root = unescape(f[3] ?? '');
    const mount = unescape(f[4] ?? '');
    const v1 = fstype === 'cgroup' ? options.split(',').filter((c) => Object.values(CONTROLLER).some((k) => k[1] === c)) : [];
    if (fstype === 'cgroup' && v1.length === 0) continue;
    if (fstype !== 'cgroup' && fstype !== 'cgroup2') continue;
    const path = own.get(fstype === 'cgroup2' ? '<v2>' : v1[0]!);
    if (path === undefined || (root !== '/' && path !== root && !path.startsWith(`${root}/`))) continue;
    const rel = root === '/' ? path : path.slice(root.length);
    const dir = `${mount}${rel === '/' ? '' : rel}`;
    const version = fstype === 'cgroup2' ? 2 : 1;
    const base = version === 2 && dir !== mount ? dir.slice(0, dir.lastIndexOf('/')) : dir;
    if (bases.some((b) => b.version === version && b.controllers.join() === v1.join())) continue;
    bases.push({ version, dir: base, controllers: v1 });
  }
  return bases;
}

function settingsFor(field: LimitField, version: 1 | 2, value: number): CgroupSetting[] {
  const bytes = String(value * 1024 * 1024);
  if (field === 'processes') return [{ file: 'pids.max', value: String(value) }];
  if (field === 'cpuSeconds') return [];
  return version === 1
    ? [{ file: 'memory.limit_in_bytes', value: bytes }, { file: 'memory.memsw.limit_in_bytes', value: bytes, optional: true }]
    : [
        { file: 'memory.max', value: bytes },
        { file: 'memory.swap.max', value: '0', optional: true },
        // One process killed for memory ends the rest too: the sandbox stops as a whole.
        { file: 'memory.oom.group', value: '1', optional: true },
      ];
}

const WATCHED: Record<LimitField, { 1: string; 2: string }> = {
  processes: { 1: 'pids.events', 2: 'pids.events' },
  memoryMB: { 1: 'memory.oom_control', 2: 'memory.events' },
  cpuSeconds: { 1: 'cpuacct.usage', 2: 'cpu.stat' },
};

const offers = (b: CgroupBase, field: LimitField) => {
  const c = CONTROLLER[field][b.version];
  return c === undefined || b.controllers.includes(c);
};

function rlimitChoice(field: LimitField, facts: MachineFacts): LimitChoice {
  if (!facts.helper) return { field, mechanism: 'none', consequence: 'is not enforced at all (no usable cgroup, and no native helper to set an rlimit)' };
  if (field === 'processes' && facts.root) return { field, mechanism: 'none', consequence: 'is not enforced at all (no usable cgroup, and RLIMIT_NPROC does not apply to root)' };
  const per = field === 'processes' ? 'per user' : 'per process';
  return { field, mechanism: 'rlimit', consequence: `applies ${per}, not to the sandbox as a whole` };
}

/** The mechanism of each limit the policy sets, and the cgroups that carry them. */
export function planLimits(limits: Policy['limits'], facts: MachineFacts): LimitsPlan {
  const wanted = CGROUP_FIELDS.filter((f) => limits[f] > 0);
  const v2 = facts.bases.find((b) => b.version === 2);
  const allV2 = v2 !== undefined && wanted.every((f) => offers(v2, f));
  const chosen = new Map<CgroupBase, LimitField[]>();
  const choices: LimitChoice[] = [];
  for (const field of wanted) {
    const base = allV2 ? v2 : (facts.bases.find((b) => b.version === 1 && offers(b, field)) ?? (v2 && offers(v2, field) ? v2 : undefined));
    if (!base) {
      choices.push(rlimitChoice(field, facts));
      continue;
    }
    chosen.set(base, [...(chosen.get(base) ?? []), field]);
    choices.push({ field, mechanism: base.version === 1 ? 'cgroup v1' : 'cgroup v2' });
  }
  if (limits.openFiles > 0) {
    choices.push(facts.helper ? { field: 'openFiles', mechanism: 'rlimit' } : { field: 'openFiles', mechanism: 'none', consequence: 'is not enforced at all (no native helper to set RLIMIT_NOFILE)' });
  }
  const cgroups = [...chosen].map(([b, fields]) => ({
    version: b.version,
    base: b.dir,
    settings: fields.flatMap((f) => settingsFor(f, b.version, limits[f])),
    watches: fields.map((f) => ({ field: f, file: WATCHED[f][b.version] })),
  }));
  return { cgroups, choices, replaced: [...chosen.values()].flat().map((f) => RLIMIT[f]) };
}

/** What a watched file says: a message when the limit was reached, and whether that stops the sandbox. */
export function limitReached(watch: CgroupWatch, text: string, limits: Policy['limits']): { message: string; stop: boolean } | undefined {
  const count = (key: string) => Number(new RegExp(`^${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  switch (watch.field) {
    case 'processes': {
      const refused = count('max');
      return refused > 0 ? { message: `limits.processes: the sandbox reached its ${limits.processes} processes; further forks failed`, stop: false } : undefined;
    }
    case 'memoryMB':
      return count('oom_kill') > 0 ? { message: `limits.memoryMB: the sandbox used its ${limits.memoryMB} MB and was stopped`, stop: true } : undefined;
    case 'cpuSeconds': {
      const seconds = watch.file === 'cpu.stat' ? count('usage_usec') / 1e6 : Number(text.trim()) / 1e9;
      return seconds >= limits.cpuSeconds ? { message: `limits.cpuSeconds: the sandbox used ${limits.cpuSeconds} s of CPU time and was stopped`, stop: true } : undefined;
    }
  }
}

/** The one warning line for the limits that do not hold for the sandbox as a whole. */
export function degradedWarning(choices: readonly LimitChoice[], root: boolean): string | undefined {
  const degraded = choices.filter((c) => c.consequence);
  if (degraded.length === 0) return undefined;
  return `${degraded.map((c) => `limits.${c.field} ${c.consequence}`).join('; ')}; ${howToFix(root)}`;
}

/** How to get a cgroup for the sandbox. */
export function howToFix(root: boolean): string {
  return root
    ? 'mount cgroup v2 with the pids and memory controllers, or the v1 pids, memory and cpuacct hierarchies'
    : 'run as root, or in a delegated cgroup (systemd-run --user --scope -p Delegate=yes fence …)';
}

/** The -d line: which mechanism holds each limit. */
export function limitsNote(limits: Policy['limits'], plan: LimitsPlan): string {
  const rlimit = (f: LimitChoice['field']) => (f === 'openFiles' ? 'RLIMIT_NOFILE (per process)' : `RLIMIT_${RLIMIT[f]} (${f === 'processes' ? 'per user' : 'per process'})`);
  const parts = plan.choices.map((c) => `${c.field}=${limits[c.field]} → ${c.mechanism === 'rlimit' ? rlimit(c.field) : c.mechanism}`);
  if (limits.wallSeconds > 0) parts.push(`wallSeconds=${limits.wallSeconds} → the whole PID namespace`);
  const where = plan.cgroups.map((c) => `${c.base}/fence-*`);
  return `limits: ${parts.join(', ')}${where.length ? ` (per-run cgroups under ${where.join(', ')})` : ''}`;
}

/** The feature report's line: which mechanism the limits get on this machine, for this user. */
export function limitsFeature(facts: MachineFacts): FeatureLine {
  const all = { memoryMB: 1, processes: 1, cpuSeconds: 1, openFiles: 0, wallSeconds: 0 };
  const { choices } = planLimits(all, facts);
  const by = (m: Mechanism) => choices.filter((c) => c.mechanism === m).map((c) => c.field);
  const cgroups = (['cgroup v2', 'cgroup v1'] as const).filter((m) => by(m).length > 0).map((m) => `${m} (${by(m).join(', ')})`);
  const warning = degradedWarning(choices, facts.root);
  if (!warning) return { mark: '✓', name: 'Resource limits', value: cgroups.join(', '), consequence: 'processes, memoryMB and cpuSeconds hold for the sandbox as a whole' };
  const value = [...cgroups, ...(by('rlimit').length ? [`rlimits (${by('rlimit').join(', ')})`] : [])].join(', ') || 'none';
  return { mark: '○', name: 'Resource limits', value, consequence: warning };
}
