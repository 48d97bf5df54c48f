/**
 * Landlock's audit records (kernel 6.15+, Landlock ABI 7, only while the kernel's audit is on) and
 * the violations they become. Pure: the caller feeds records and says which pids created a
 * Landlock domain in the sandbox.
 *
 * One denial is one audit event (records sharing a serial): a LANDLOCK_ACCESS record per denied
 * object (the domain's id, the blockers, the object), the LANDLOCK_DOMAIN record `allocated` after
 * the first logged denial of a domain (its creator's pid), then, when the task has an audit
 * context, the SYSCALL record (the denied process) and the end-of-event record.
 *
 * Accepts a record as the audit netlink socket gives it, with its type in front
 * (`type=1423 audit(1729738800.268:30): domain=...`), or as /dev/kmsg and dmesg print it.
 */
import type { Violation } from '@fence/core';

export const AUDIT_SYSCALL = 1300;
export const AUDIT_EOE = 1320;
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
      readonly type: typeof AUDIT_LANDLOCK_ACCESS;
      readonly domain: string;
      /** e.g. `fs.write_file`, `net.connect_tcp`, comma-separated when several. */
      readonly blockers: string;
      /** The object: a path, `address:port` or `pid N (comm)`, when the record names one. */
      readonly object: string;
    })
  | (RecordBase & {
      readonly type: typeof AUDIT_LANDLOCK_DOMAIN;
      readonly domain: string;
      readonly status: string;
      /** The domain's creator (present when status=allocated). */
      readonly pid: number;
    })
  | (RecordBase & { readonly type: typeof AUDIT_SYSCALL; readonly pid: number; readonly comm: string })
  | (RecordBase & { readonly type: typeof AUDIT_EOE });

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

const num = (v: string | undefined): number => (v === undefined ? 0 : Number.parseInt(v, 10) || 0);

function accessObject(f: Map<string, string>): string {
  if (f.has('path')) return f.get('path')!;
  if (f.has('daddr')) return `${f.get('daddr')}:${f.get('dest') ?? ''}`;
  if (f.has('opid')) return `pid ${f.get('opid')}${f.has('ocomm') ? ` (${f.get('ocomm')})` : ''}`;
  return '';
}

/** Parses one record; undefined unless it is one of the types above. */
export function parseAuditRecord(line: string): AuditRecord | undefined {
  const m = HEADER.exec(line.replace(/^[^;]*;/, ''));
  if (!m) return undefined;
  const type = Number(m[1]);
  const base = { time: Number(m[2]) * 1000 + Number(m[3]!.padEnd(3, '0').slice(0, 3)), serial: Number(m[4]) };
  const f = auditFields(m[5]!);
  switch (type) {
    case AUDIT_LANDLOCK_ACCESS:
      return { ...base, type, domain: f.get('domain') ?? '', blockers: f.get('blockers') ?? '', object: accessObject(f) };
    case AUDIT_LANDLOCK_DOMAIN:
      return { ...base, type, domain: f.get('domain') ?? '', status: f.get('status') ?? '', pid: num(f.get('pid')) };
    case AUDIT_SYSCALL:
      return { ...base, type, pid: num(f.get('pid')), comm: f.get('comm') ?? '' };
    case AUDIT_EOE:
      return { ...base, type };
    default:
      return undefined;
  }
}

type Access = Extract<AuditRecord, { type: typeof AUDIT_LANDLOCK_ACCESS }>;

/** The denied process, from the event's SYSCALL record when the task had an audit context. */
interface Actor {
  readonly process: string;
  readonly pid: number;
}

function landlockViolation(r: Access, actor: Actor): Violation {
  const target = r.object || r.blockers;
  const reason = `${r.blockers} denied by Landlock`;
  const who = actor.pid ? ` (${actor.process}, pid=${actor.pid})` : '';
  return { time: r.time, source: 'landlock', action: 'block', target, process: actor.process, pid: actor.pid, reason, detail: `${target}: ${reason}${who}` };
}

/** How long an event waits for its SYSCALL record (a task without an audit context sends none). */
const EVENT_WAIT_MS = 200;

/**
 * Turns Landlock records into the sandbox's violations. A domain is the sandbox's when its creator
 * (the LANDLOCK_DOMAIN record's pid) is one of the pids `addCreator` was given; the two arrive by
 * different paths in either order, so denials of a domain whose creator is not known yet wait,
 * until `settle()` decides they are someone else's.
 */
export class AuditAttributor {
  readonly #creators = new Set<number>();
  /** Domain id → whether the sandbox created it. */
  readonly #domains = new Map<string, boolean>();
  /** Domains whose creator is not (yet) known to be the sandbox's: creator pid and waiting denials. */
  readonly #unknown = new Map<string, { creator: number; denials: Violation[] }>();
  /** Events waiting for their SYSCALL record, by serial. */
  readonly #events = new Map<number, { accesses: Access[]; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A pid that created a Landlock domain in the sandbox; the violations this completes. */
  addCreator(pid: number): Violation[] {
    this.#creators.add(pid);
    const out: Violation[] = [];
    for (const [domain, u] of this.#unknown) {
      if (u.creator !== pid) continue;
      this.#domains.set(domain, true);
      this.#unknown.delete(domain);
      out.push(...u.denials);
    }
    return out;
  }

  /** The violations this record completes (often none). */
  accept(record: AuditRecord): Violation[] {
    switch (record.type) {
      case AUDIT_LANDLOCK_ACCESS: {
        const event = this.#events.get(record.serial) ?? { accesses: [], since: this.now() };
        event.accesses.push(record);
        this.#events.set(record.serial, event);
        return [];
      }
      case AUDIT_LANDLOCK_DOMAIN:
        if (record.status === 'allocated' && !this.#domains.has(record.domain)) {
          if (this.#creators.has(record.pid)) this.#domains.set(record.domain, true);
          else if (!this.#unknown.has(record.domain)) this.#unknown.set(record.domain, { creator: record.pid, denials: [] });
        }
        return [];
      case AUDIT_SYSCALL:
        return this.#complete(record.serial, { process: record.comm, pid: record.pid });
      case AUDIT_EOE:
        return this.#complete(record.serial, { process: '', pid: 0 });
    }
  }

  /** Completes the events that waited long enough for a SYSCALL record (all of them with `all`). */
  expire(all = false): Violation[] {
    const due = this.now() - EVENT_WAIT_MS;
    return [...this.#events].filter(([, e]) => all || e.since <= due).flatMap(([serial]) => this.#complete(serial, { process: '', pid: 0 }));
  }

  /** Every record is in: domains whose creator never turned out to be the sandbox's are not its. */
  settle(): Violation[] {
    const out = this.expire(true);
    for (const domain of this.#unknown.keys()) this.#domains.set(domain, false);
    this.#unknown.clear();
    return out;
  }

  #complete(serial: number, actor: Actor): Violation[] {
    const event = this.#events.get(serial);
    if (!event) return [];
    this.#events.delete(serial);
    const out: Violation[] = [];
    for (const access of event.accesses) {
      const violation = landlockViolation(access, actor);
      const ours = this.#domains.get(access.domain);
      if (ours) out.push(violation);
      else if (ours === undefined) this.#unknown.get(access.domain)?.denials.push(violation);
    }
    return out;
  }
}
