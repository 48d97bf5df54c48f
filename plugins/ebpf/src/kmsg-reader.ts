/**
 * Follows the kernel log (`dmesg --follow-new`, which reads /dev/kmsg) for the audit records of
 * one command's sandbox. A record is the sandbox's when its pid is in the sandbox's PID
 * namespace; a process that exits before its record is read cannot be attributed and is skipped.
 */
import { readlinkSync } from 'node:fs';
import type { ViolationStream } from '@fence/core';
import { AuditAttributor, parseAuditRecord, type SyscallNamer } from './kmsg-audit.js';
import { spawnLines, type LineProcess } from './line-process.js';
import type { PidNamespace } from './pid-namespace.js';

export interface KmsgReaderOptions {
  readonly dmesg: string;
  readonly pidns: PidNamespace;
  readonly violations: ViolationStream;
  readonly syscallName?: SyscallNamer;
}

function inPidNamespace(pid: number, inode: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`) === `pid:[${inode}]`;
  } catch {
    return false;
  }
}

export class KmsgReader {
  private constructor(private readonly proc: LineProcess) {}

  static start(o: KmsgReaderOptions): KmsgReader {
    const attributor = new AuditAttributor((pid) => inPidNamespace(pid, o.pidns.inode), o.syscallName);
    const proc = spawnLines([o.dmesg, '--follow-new', '--notime'], process.env, (line) => {
      const record = parseAuditRecord(line);
      if (record) for (const v of attributor.accept(record)) o.violations.emit(v);
    });
    return new KmsgReader(proc);
  }

  stop(): Promise<void> {
    return this.proc.stop('SIGTERM', 1000);
  }
}
