import { describe, expect, it } from 'vitest';
import { AuditAttributor, auditFields, parseAuditRecord, type AuditRecord } from '../src/kmsg-audit.js';

const SECCOMP =
  'audit: type=1326 audit(1795463183.549:2): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined pid=1234 comm="python3" exe="/usr/bin/python3.11" sig=0 arch=c000003e syscall=101 compat=0 ip=0x7f5a6272c829 code=0x50000';
const ACCESS = 'audit: type=1423 audit(1729738800.268:30): domain=195ba459b blockers=fs.make_reg path="/etc" dev="vda" ino=351';
const DOMAIN = 'audit: type=1424 audit(1729738800.268:30): domain=195ba459b status=allocated mode=enforcing pid=300 uid=0 exe="/usr/bin/touch" comm="touch"';

describe('parseAuditRecord', () => {
  it('reads a seccomp record as /dev/kmsg gives it', () => {
    expect(parseAuditRecord(`4,1041,844791086,-;${SECCOMP}`)).toEqual({
      type: 1326,
      time: 1795463183549,
      serial: 2,
      pid: 1234,
      comm: 'python3',
      exe: '/usr/bin/python3.11',
      arch: 'c000003e',
      syscall: 101,
      code: 0x50000,
    });
  });

  it('reads the same record as dmesg and auditd print it', () => {
    expect(parseAuditRecord(`[  844.791086] ${SECCOMP}`)).toMatchObject({ type: 1326, pid: 1234 });
    expect(parseAuditRecord(SECCOMP.replace('audit: type=1326 audit(', 'type=SECCOMP msg=audit('))).toBeUndefined();
    expect(parseAuditRecord(SECCOMP.replace('audit: type=1326 audit(', 'type=1326 msg=audit('))).toMatchObject({ syscall: 101 });
  });

  it('reads Landlock access and domain records', () => {
    expect(parseAuditRecord(ACCESS)).toEqual({ type: 1423, time: 1729738800268, serial: 30, domain: '195ba459b', blockers: 'fs.make_reg', object: '/etc' });
    expect(parseAuditRecord(DOMAIN)).toMatchObject({ type: 1424, domain: '195ba459b', status: 'allocated', pid: 300, comm: 'touch' });
    const net = 'audit: type=1423 audit(1729738800.3:31): domain=195ba459b blockers=net.connect_tcp daddr=93.184.216.34 dest=443';
    expect(parseAuditRecord(net)).toMatchObject({ blockers: 'net.connect_tcp', object: '93.184.216.34:443' });
  });

  it('ignores other kernel messages and audit types', () => {
    expect(parseAuditRecord('EXT4-fs (vda): mounted filesystem')).toBeUndefined();
    expect(parseAuditRecord('audit: type=2000 audit(1795113352.576:1): state=initialized audit_enabled=0 res=1')).toBeUndefined();
  });

  it('does not let a quoted comm smuggle in fields', () => {
    expect(auditFields('pid=1 comm="a pid=2" exe="/x"').get('pid')).toBe('1');
  });
});

describe('AuditAttributor', () => {
  const record = (line: string) => parseAuditRecord(line) as AuditRecord;

  it('emits a seccomp violation only for pids of the sandbox', () => {
    const a = new AuditAttributor((pid) => pid === 1234, (arch, nr) => (arch === 'c000003e' && nr === 101 ? 'ptrace' : undefined));
    expect(a.accept(record(SECCOMP))).toEqual([
      {
        time: 1795463183549,
        source: 'seccomp',
        action: 'block',
        target: 'ptrace',
        process: 'python3',
        pid: 1234,
        reason: 'Operation not permitted',
        detail: 'ptrace: Operation not permitted (python3, pid=1234)',
      },
    ]);
    expect(new AuditAttributor(() => false).accept(record(SECCOMP))).toEqual([]);
  });

  it('names the syscall by number when no namer knows it', () => {
    expect(new AuditAttributor(() => true).accept(record(SECCOMP))[0]).toMatchObject({ target: 'syscall 101' });
  });

  it('holds a Landlock access record until its domain turns out to be the sandbox', () => {
    const a = new AuditAttributor((pid) => pid === 300);
    expect(a.accept(record(ACCESS))).toEqual([]);
    expect(a.accept(record(DOMAIN))).toEqual([
      { time: 1729738800268, source: 'landlock', action: 'block', target: '/etc', process: '', pid: 0, reason: 'denied by Landlock (fs.make_reg)', detail: '/etc: denied by Landlock (fs.make_reg)' },
    ]);
    // Later denials of a known domain come alone, without a new domain record.
    expect(a.accept(record(ACCESS.replace(':30)', ':31)')))).toHaveLength(1);
  });

  it('drops Landlock records of domains created outside the sandbox', () => {
    const a = new AuditAttributor(() => false);
    expect(a.accept(record(ACCESS))).toEqual([]);
    expect(a.accept(record(DOMAIN))).toEqual([]);
    expect(a.accept(record(ACCESS.replace(':30)', ':31)')))).toEqual([]);
  });
});
