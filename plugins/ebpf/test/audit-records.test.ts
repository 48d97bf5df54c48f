import { describe, expect, it } from 'vitest';
import { AuditAttributor, auditFields, parseAuditRecord, type AuditRecord } from '../src/audit-records.js';

// As the audit netlink socket gives them (the type from the message header in front).
const ACCESS = 'type=1423 audit(1729738800.268:30): domain=195ba459b blockers=fs.make_reg path="/etc" dev="vda" ino=351';
const DOMAIN = 'type=1424 audit(1729738800.268:30): domain=195ba459b status=allocated mode=enforcing pid=300 uid=0 exe="/usr/bin/fence-launch" comm="fence-launch"';
const SYSCALL = 'type=1300 audit(1729738800.268:30): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c ppid=299 pid=301 auid=0 uid=0 comm="touch" exe="/usr/bin/touch"';
const EOE = 'type=1320 audit(1729738800.268:30): ';

describe('parseAuditRecord', () => {
  it('reads Landlock access and domain records, and the event’s SYSCALL and end records', () => {
    expect(parseAuditRecord(ACCESS)).toEqual({ type: 1423, time: 1729738800268, serial: 30, domain: '195ba459b', blockers: 'fs.make_reg', object: '/etc' });
    expect(parseAuditRecord(DOMAIN)).toEqual({ type: 1424, time: 1729738800268, serial: 30, domain: '195ba459b', status: 'allocated', pid: 300 });
    expect(parseAuditRecord(SYSCALL)).toEqual({ type: 1300, time: 1729738800268, serial: 30, pid: 301, comm: 'touch' });
    expect(parseAuditRecord(EOE)).toEqual({ type: 1320, time: 1729738800268, serial: 30 });
  });

  it('names the object of network and signal denials', () => {
    expect(parseAuditRecord('type=1423 audit(1729738800.3:31): domain=1 blockers=net.connect_tcp daddr=93.184.216.34 dest=443')).toMatchObject({ object: '93.184.216.34:443' });
    expect(parseAuditRecord('type=1423 audit(1729738800.3:31): domain=1 blockers=scope.signal opid=1 ocomm="systemd"')).toMatchObject({ object: 'pid 1 (systemd)' });
  });

  it('reads the same record as /dev/kmsg and dmesg print it', () => {
    expect(parseAuditRecord(`6,1041,844791086,-;audit: ${ACCESS}`)).toMatchObject({ type: 1423, serial: 30 });
    expect(parseAuditRecord(`[  844.791086] audit: ${ACCESS}`)).toMatchObject({ type: 1423, serial: 30 });
  });

  it('ignores other kernel messages and audit types', () => {
    expect(parseAuditRecord('EXT4-fs (vda): mounted filesystem')).toBeUndefined();
    expect(parseAuditRecord('type=2000 audit(1795113352.576:1): state=initialized audit_enabled=0 res=1')).toBeUndefined();
    expect(parseAuditRecord('type=1326 audit(1795463183.549:2): pid=1 comm="x" syscall=101 code=0x50000')).toBeUndefined();
  });

  it('does not let a quoted path smuggle in fields', () => {
    expect(auditFields('domain=1 path="/x domain=2" dev="vda"').get('domain')).toBe('1');
    expect(parseAuditRecord('type=1423 audit(1.0:1): domain=1 blockers=fs.read_file path="/a blockers=none domain=2"')).toMatchObject({ domain: '1', blockers: 'fs.read_file' });
  });
});

describe('AuditAttributor', () => {
  const record = (line: string) => parseAuditRecord(line) as AuditRecord;
  const feed = (a: AuditAttributor, lines: string[]) => lines.flatMap((l) => a.accept(record(l)));
  const violation = {
    time: 1729738800268,
    source: 'landlock',
    action: 'block',
    target: '/etc',
    process: 'touch',
    pid: 301,
    reason: 'fs.make_reg denied by Landlock',
    detail: '/etc: fs.make_reg denied by Landlock (touch, pid=301)',
  };

  it('emits a denial of a domain the sandbox created, with the process from the SYSCALL record', () => {
    const a = new AuditAttributor();
    a.addCreator(300);
    expect(feed(a, [ACCESS, DOMAIN, SYSCALL, EOE])).toEqual([violation]);
    // Later denials of the domain come without a domain record.
    expect(feed(a, [ACCESS.replace(':30)', ':31)'), EOE.replace(':30)', ':31)')])).toEqual([{ ...violation, process: '', pid: 0, detail: '/etc: fs.make_reg denied by Landlock' }]);
  });

  it('holds the denials of a domain until its creator turns out to be the sandbox’s', () => {
    const a = new AuditAttributor();
    expect(feed(a, [ACCESS, DOMAIN, SYSCALL])).toEqual([]);
    expect(a.addCreator(300)).toEqual([violation]);
  });

  it('drops the denials of domains created outside the sandbox, also after settle()', () => {
    const a = new AuditAttributor();
    a.addCreator(999);
    expect(feed(a, [ACCESS, DOMAIN, SYSCALL])).toEqual([]);
    expect(a.settle()).toEqual([]);
    expect(a.addCreator(300)).toEqual([]); // too late: settle() decided
    expect(feed(a, [ACCESS.replace(':30)', ':32)'), EOE.replace(':30)', ':32)')])).toEqual([]);
  });

  it('drops denials of domains it never saw created (they predate the command)', () => {
    const a = new AuditAttributor();
    a.addCreator(300);
    expect(feed(a, [ACCESS.replace('195ba459b', 'abc'), EOE])).toEqual([]);
  });

  it('completes an event without a SYSCALL record once it has waited, or at settle()', () => {
    let now = 0;
    const a = new AuditAttributor(() => now);
    a.addCreator(300);
    expect(feed(a, [ACCESS, DOMAIN])).toEqual([]);
    expect(a.expire()).toEqual([]);
    now = 1000;
    expect(a.expire()).toMatchObject([{ target: '/etc', pid: 0 }]);
    feed(a, [ACCESS.replace(':30)', ':33)')]);
    expect(a.settle()).toMatchObject([{ target: '/etc' }]);
  });
});
