/**
 * Audit records in the kernel log: seccomp denials (type 1326, logged because the filter is
 * installed with SECCOMP_FILTER_FLAG_LOG) and Landlock denials (1423 access, 1424 domain; only
 * when the kernel's audit is enabled). Pure: the caller says which pids belong to the sandbox.
 *
 * Accepts a line as /dev/kmsg gives it (`6,123,456,-;audit: ...`), as dmesg prints it
 * (`[  844.79] audit: ...`) or bare (`audit: ...`, `type=1326 msg=audit(...)`).
 */
import type { Violation } from '@fence/core';

export const AUDIT_SECCOMP = 1326;
export const AUDIT_LANDLOCK_ACCESS = 1423;
export const AUDIT_LANDLOCK_DOMAIN = 1424;

interface RecordBase {
  /** Event time from `audit(<seconds>.<ms>:<serial>)`, in ms since the epoch. */
  readonly time: number;
  /** Records of one event share the serial. */
  readonly serial: number;
}

export type AuditRecord =
  | (RecordBase & {
      readonly type: typeof AUDIT_SECCOMP;
      readonly pid: number;
      readonly comm: string;
      readonly exe: string;
      /** AUDIT_ARCH_* as hex, e.g. `c000003e` (x86_64). */
      readonly arch: string;
      readonly syscall: number;
      /** The filter's action (SECCOMP_RET_ACTION_FULL part of the return value). */
      readonly code: number;
    })
  | (RecordBase & {
      readonly type: typeof AUDIT_LANDLOCK_ACCESS;
      readonly domain: string;
      /** e.g. `fs.write_file`, `net.connect_tcp`, comma-separated when several. */
      readonly blockers: string;
      /** The object: a path, `daddr:dest` or `opid`, when the record names one. */
      readonly object: string;
    })
  | (RecordBase & {
      readonly type: typeof AUDIT_LANDLOCK_DOMAIN;
      readonly domain: string;
      readonly status: string;
      /** The domain's creator (present when status=allocated). */
      readonly pid: number;
      readonly comm: string;
    });

const HEADER = /(?:^|\s)(?:audit: )?type=(\d+) (?:msg=)?audit\((\d+)\.(\d+):(\d+)\): ?(.*)$/;
const FIELD = /(\w+)=("(?:[^"]*)"|\S+)/g;

/** Fields of an audit record body; quoted values unquoted, hex-encoded values kept as they are. */
export function auditFields(body: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const m of body.matchAll(FIELD)) {
    const value = m[2]!;
    fields.set(m[1]!, value.startsWith('"') ? value.slice(1, -1) : value);
  }
  return fields;
}

const num = (v: string | undefined): number => (v === undefined ? 0 : Number.parseInt(v, v.startsWith('0x') ? 16 : 10) || 0);

/** Parses one kernel log line; undefined unless it is a seccomp or Landlock audit record. */
export function parseAuditRecord(line: string): AuditRecord | undefined {
  const m = HEADER.exec(line.replace(/^[^;]*;/, ''));
  if (!m) return undefined;
  const type = Number(m[1]);
  const base = { time: Number(m[2]) * 1000 + Number(m[3]!.padEnd(3, '0').slice(0, 3)), serial: Number(m[4]) };
  const f = auditFields(m[5]!);
  switch (type) {
    case AUDIT_SECCOMP:
      return {
        ...base,
        type,
        pid: num(f.get('pid')),
        comm: f.get('comm') ?? '',
        exe: f.get('exe') ?? '',
        arch: f.get('arch') ?? '',
        syscall: num(f.get('syscall')),
        code: num(f.get('code')),
      };
    case AUDIT_LANDLOCK_ACCESS: {
      const object = f.get('path') ?? (f.has('daddr') ? `${f.get('daddr')}:${f.get('dest') ?? ''}` : f.has('opid') ? `pid ${f.get('opid')}` : '');
      return { ...base, type, domain: f.get('domain') ?? '', blockers: f.get('blockers') ?? '', object };
    }
    case AUDIT_LANDLOCK_DOMAIN:
      return { ...base, type, domain: f.get('domain') ?? '', status: f.get('status') ?? '', pid: num(f.get('pid')), comm: f.get('comm') ?? '' };
    default:
      return undefined;
  }
}

/** SECCOMP_RET_* actions as they appear in `code=`. */
const SECCOMP_ACTIONS: Readonly<Record<number, string>> = {
  0x80000000: 'killed the process',
  0x00000000: 'killed the thread',
  0x00030000: 'trapped',
  0x00050000: 'Operation not permitted',
  0x7fc00000: 'sent to the supervisor',
  0x7ff00000: 'traced',
  0x7ffc0000: 'logged',
};
const SECCOMP_RET_LOG = 0x7ffc0000;

export type SyscallNamer = (arch: string, nr: number) => string | undefined;

function seccompViolation(r: Extract<AuditRecord, { type: 1326 }>, syscallName: SyscallNamer): Violation {
  const call = syscallName(r.arch, r.syscall) ?? `syscall ${r.syscall}`;
  const reason = SECCOMP_ACTIONS[r.code >>> 0] ?? `action 0x${(r.code >>> 0).toString(16)}`;
  return {
    time: r.time,
    source: 'seccomp',
    action: r.code >>> 0 === SECCOMP_RET_LOG ? 'allow' : 'block',
    target: call,
    process: r.comm,
    pid: r.pid,
    reason,
    detail: `${call}: ${reason} (${r.comm}, pid=${r.pid})`,
  };
}

function landlockViolation(r: Extract<AuditRecord, { type: 1423 }>): Violation {
  const reason = `denied by Landlock (${r.blockers})`;
  const target = r.object || r.blockers;
  return { time: r.time, source: 'landlock', action: 'block', target, process: '', pid: 0, reason, detail: `${target}: ${reason}` };
}

/**
 * Turns audit records into the sandbox's violations. Seccomp records name the offending pid;
 * Landlock access records name a domain, whose creator's pid arrives in the domain record of
 * the same event (after the access record), so access records of unknown domains wait for it.
 */
export class AuditAttributor {
  readonly #sandboxDomains = new Map<string, boolean>();
  #pending: { serial: number; records: Extract<AuditRecord, { type: 1423 }>[] } | undefined;

  constructor(
    private readonly isSandboxPid: (pid: number) => boolean,
    private readonly syscallName: SyscallNamer = () => undefined,
  ) {}

  /** The violations this record completes (often none). */
  accept(record: AuditRecord): Violation[] {
    const out: Violation[] = [];
    if (this.#pending && this.#pending.serial !== record.serial) this.#pending = undefined;
    switch (record.type) {
      case AUDIT_SECCOMP:
        if (this.isSandboxPid(record.pid)) out.push(seccompViolation(record, this.syscallName));
        break;
      case AUDIT_LANDLOCK_ACCESS: {
        const known = this.#sandboxDomains.get(record.domain);
        if (known) out.push(landlockViolation(record));
        else if (known === undefined) {
          this.#pending ??= { serial: record.serial, records: [] };
          this.#pending.records.push(record);
        }
        break;
      }
      case AUDIT_LANDLOCK_DOMAIN:
        if (record.status === 'allocated') {
          const ours = this.isSandboxPid(record.pid);
          this.#sandboxDomains.set(record.domain, ours);
          for (const r of this.#pending?.records ?? []) if (ours && r.domain === record.domain) out.push(landlockViolation(r));
          this.#pending = undefined;
        }
        break;
    }
    return out;
  }
}
