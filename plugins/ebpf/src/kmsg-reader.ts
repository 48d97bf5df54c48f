/**
 * Follows the kernel log (/dev/kmsg, opened after its newest record by the addon) for the audit
 * records of one command's sandbox, in this process: no dmesg to start, and stop() reads every
 * record written until then. A record is the sandbox's when its pid is in the sandbox's PID
 * namespace; a process that exits before its record is read cannot be attributed and is skipped.
 */
import { closeSync, readlinkSync, readSync } from 'node:fs';
import type { ViolationStream } from '@fence/core';
import { AuditAttributor, parseAuditRecord, type SyscallNamer } from './kmsg-audit.js';
import type { PidNamespace } from './pid-namespace.js';

export interface KmsgReaderOptions {
  /** A non-blocking descriptor of /dev/kmsg after its newest record (the reader closes it). */
  readonly fd: number;
  readonly pidns: PidNamespace;
  readonly violations: ViolationStream;
  readonly syscallName?: SyscallNamer;
}

/** How often the log is read while the command runs; stop() reads the rest. */
const POLL_MS = 20;
/** One record per read; the kernel caps a record well below this. */
const RECORD_BYTES = 8192;

function inPidNamespace(pid: number, inode: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`) === `pid:[${inode}]`;
  } catch {
    return false;
  }
}

export class KmsgReader {
  readonly #buf = Buffer.alloc(RECORD_BYTES);
  readonly #timer: NodeJS.Timeout;
  readonly #attributor: AuditAttributor;
  #closed = false;

  private constructor(private readonly o: KmsgReaderOptions) {
    this.#attributor = new AuditAttributor((pid) => inPidNamespace(pid, o.pidns.inode), o.syscallName);
    this.#timer = setInterval(() => this.#drain(), POLL_MS).unref();
  }

  static start(o: KmsgReaderOptions): KmsgReader {
    return new KmsgReader(o);
  }

  /** Reads every record there is now. */
  #drain(): void {
    for (;;) {
      let n: number;
      try {
        n = readSync(this.o.fd, this.#buf, 0, RECORD_BYTES, null);
      } catch (e) {
        // EPIPE: records were overwritten before we read them; the next read goes on after them.
        if ((e as NodeJS.ErrnoException).code === 'EPIPE') continue;
        return; // EAGAIN: nothing more for now
      }
      const record = parseAuditRecord(this.#buf.toString('utf8', 0, n).trimEnd());
      if (record) for (const v of this.#attributor.accept(record)) this.o.violations.emit(v);
    }
  }

  stop(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#timer);
      this.#drain();
      closeSync(this.o.fd);
    }
    return Promise.resolve();
  }
}
