/**
 * Follows the kernel's audit records (the addon's socket in the netlink read-log group) for the
 * Landlock denials of one command's sandbox, in this process. The eBPF monitor names the pids that
 * create a Landlock domain in the sandbox (`addCreator`); stop() waits until the kernel has handed
 * every record queued so far to its readers, reads them, and drops what was not the sandbox's.
 */
import { closeSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Violation, ViolationStream } from '@fence/core';
import { AuditAttributor, parseAuditRecord } from './audit-records.js';

/** The part of @fence/native's addon the reader uses. */
export interface AuditAddon {
  /** A non-blocking socket receiving every audit record from now on; throws (EPERM: no CAP_AUDIT_READ). */
  auditOpen(): number;
  /** AUDIT_GET, or the errno that refused it. */
  auditState(): { enabled: number; pid: number; backlog: number; lost: number } | number;
}

export interface AuditReaderOptions {
  readonly addon: AuditAddon;
  readonly violations: ViolationStream;
}

/** How often the socket is read while the command runs; stop() reads the rest. */
const POLL_MS = 20;
/** One netlink message per read; the kernel caps a record (MAX_AUDIT_MESSAGE_LENGTH) below this. */
const MESSAGE_BYTES = 9000;
const NLMSGHDR_BYTES = 16;
/** How long stop() waits for the kernel's audit queue to empty (it normally takes microseconds). */
const SETTLE_MS = 500;

export class AuditReader {
  readonly #buf = Buffer.alloc(MESSAGE_BYTES);
  readonly #fd: number;
  readonly #timer: NodeJS.Timeout;
  readonly #attributor = new AuditAttributor();
  #overflows = 0;
  #closed = false;
  /** The kernel's count of records it could not queue (backlog limit, memory), at the start. */
  readonly #lostBefore: number;

  private constructor(private readonly o: AuditReaderOptions) {
    this.#fd = o.addon.auditOpen();
    this.#lostBefore = AuditReader.#lost(o.addon);
    this.#timer = setInterval(() => this.#emit(this.#drain().concat(this.#attributor.expire())), POLL_MS).unref();
  }

  /** Starts reading; throws when the addon cannot open the socket. */
  static start(o: AuditReaderOptions): AuditReader {
    return new AuditReader(o);
  }

  static #lost(addon: AuditAddon): number {
    const state = addon.auditState();
    return typeof state === 'number' ? 0 : state.lost;
  }

  /** A pid that created a Landlock domain in the sandbox (from the eBPF monitor). */
  addCreator(pid: number): void {
    this.#emit(this.#attributor.addCreator(pid));
  }

  #emit(violations: readonly Violation[]): void {
    for (const v of violations) this.o.violations.emit(v);
  }

  /** Reads every message there is now; the violations they complete. */
  #drain(): Violation[] {
    const out: Violation[] = [];
    for (;;) {
      let n: number;
      try {
        n = readSync(this.#fd, this.#buf, 0, MESSAGE_BYTES, null);
      } catch (e) {
        // ENOBUFS: the socket's buffer overflowed and the kernel dropped records; reading goes on.
        if ((e as NodeJS.ErrnoException).code === 'ENOBUFS') {
          this.#overflows++;
          continue;
        }
        return out; // EAGAIN: nothing more for now
      }
      if (n < NLMSGHDR_BYTES) continue;
      const type = this.#buf.readUInt16LE(4);
      const text = this.#buf.toString('utf8', NLMSGHDR_BYTES, n).replace(/\0+$/, '');
      const record = parseAuditRecord(`type=${type} ${text}`);
      if (record) out.push(...this.#attributor.accept(record));
    }
  }

  /**
   * Waits until the kernel has handed out every record queued before now (they were queued when
   * the denied syscall ran, so the command's are among them), reads them, and stops. Resolves with
   * what was dropped meanwhile: how many times the socket's buffer overflowed, and how many records
   * the kernel could not queue at all (its backlog limit; any process's records).
   */
  async stop(): Promise<{ overflows: number; lost: number }> {
    if (this.#closed) return { overflows: this.#overflows, lost: 0 };
    this.#closed = true;
    clearInterval(this.#timer);
    const deadline = Date.now() + SETTLE_MS;
    for (;;) {
      const state = this.o.addon.auditState();
      if (typeof state === 'number' || state.backlog === 0 || Date.now() > deadline) break;
      await sleep(1);
    }
    this.#emit(this.#drain().concat(this.#attributor.settle()));
    closeSync(this.#fd);
    return { overflows: this.#overflows, lost: Math.max(0, AuditReader.#lost(this.o.addon) - this.#lostBefore) };
  }
}
