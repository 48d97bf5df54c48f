import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { encodeHelperPlan, type HelperPlan } from '../src/index.js';

/** Plans as a caller without the types could write them: the encoder checks every field itself. */
const encode = (plan: unknown) => encodeHelperPlan(plan as HelperPlan);
const text = (plan: unknown) => Buffer.from(encode(plan)).toString('utf8');

describe('encodeHelperPlan', () => {
  it('writes one line per instruction, in the order fence-launch applies them', () => {
    const plan = {
      bridges: [
        { kind: 'tcp-to-unix', port: 3128, fd: 4 },
        { kind: 'unix-to-tcp', fd: 5, port: 8080 },
      ],
      rlimits: [
        { resource: 'NOFILE', value: 1024 },
        { resource: 'AS', value: Infinity },
      ],
      landlock: {
        abi: 7,
        handledAccessFs: 0xffff,
        handledAccessNet: 3,
        scoped: 3,
        restrictFlags: 2,
        paths: [{ access: 13, path: '/' }],
        ports: [{ access: 2, port: 3128 }],
      },
      seccomp: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
      seccompQuiet: new Uint8Array([6, 0, 0, 0, 1, 0, 5, 0]),
      seccompNotify: { program: new Uint8Array([6, 0, 0, 0, 0, 0, 0xc0, 0x7f]), socket: 6 },
    };
    assert.equal(
      text(plan),
      [
        'fence-launch-plan 1',
        'bridge tcp-to-unix 3128 4',
        'bridge unix-to-tcp 8080 5',
        'rlimit NOFILE 1024',
        'rlimit AS unlimited',
        'landlock 7 65535 3 3 2',
        'landlock-path 13 /',
        'landlock-port 2 3128',
        'seccomp 060000000000ff7f',
        'seccomp-quiet 0600000001000500',
        'seccomp-notify 6 060000000000c07f',
        '',
      ].join('\n'),
    );
  });

  it('percent-encodes spaces, newlines, % and non-ASCII bytes in paths', () => {
    const plan = { bridges: [], rlimits: [], landlock: { abi: 1, handledAccessFs: 1, handledAccessNet: 0, scoped: 0, restrictFlags: 0, paths: [{ access: 1, path: '/a b/%\n/é' }], ports: [] } };
    assert.match(text(plan), /^landlock-path 1 \/a%20b\/%25%0A\/%C3%A9$/m);
  });

  it('writes one guard line per protected name, and refuses a name that is not one', () => {
    const createGuard = { files: ['.bashrc'], dirs: ['.vscode', '.config/fence'], git: ['hooks'], gitConfig: ['config'] };
    assert.equal(text({ bridges: [], rlimits: [], createGuard }), 'fence-launch-plan 1\nguard file .bashrc\nguard dir .vscode\nguard dir .config/fence\nguard git hooks\nguard git-config config\n');
    for (const bad of ['a b', '/abs', 'a/b/c', '..', '50%'])
      assert.throws(() => encodeHelperPlan({ bridges: [], rlimits: [], createGuard: { files: [bad], dirs: [], git: [], gitConfig: [] } }), /createGuard\.files\[0\] must be a file name/);
  });

  it('writes the DNS stub and the capture listener as their own lines', () => {
    const bridges = [
      { kind: 'dns', port: 53, fd: 5 },
      { kind: 'capture', port: 15001, fd: 3 },
    ] as const;
    assert.equal(text({ bridges: [...bridges], rlimits: [] }), 'fence-launch-plan 1\ndns 53 5\ncapture 15001 3\n');
    assert.throws(() => encodeHelperPlan({ bridges: [{ kind: 'capture', port: 15001, fd: 2 }], rlimits: [] }), /bridges\[0\]\.fd must be a descriptor/);
  });

  it('writes bridges-first only when the sandbox limits its processes', () => {
    assert.equal(text({ bridges: [{ kind: 'tcp-to-unix', port: 3128, fd: 4 }], rlimits: [], bridgesFirst: true }), 'fence-launch-plan 1\nbridge tcp-to-unix 3128 4\nbridges-first\n');
    assert.equal(text({ bridges: [], rlimits: [], bridgesFirst: false }), 'fence-launch-plan 1\n');
  });

  it('encodes an empty plan as the header alone', () => {
    assert.equal(text({ bridges: [], rlimits: [] }), 'fence-launch-plan 1\n');
  });

  it('encodes only the bytes of a seccomp view into a larger buffer', () => {
    const big = new Uint8Array(24).fill(0xaa);
    big.set([1, 2, 3, 4, 5, 6, 7, 8], 8);
    assert.match(text({ bridges: [], rlimits: [], seccomp: big.subarray(8, 16) }), /^seccomp 0102030405060708$/m);
  });

  it('names the field of an invalid value', () => {
    const cases: [unknown, RegExp][] = [
      [{ bridges: [{ kind: 'tcp-to-unix', port: 0, fd: 4 }], rlimits: [] }, /bridges\[0\]\.port must be a port 1\.\.65535/],
      [{ bridges: [{ kind: 'tcp-to-unix', port: 1, fd: 2 }], rlimits: [] }, /bridges\[0\]\.fd must be a descriptor number 3\.\.65535/],
      [{ bridges: [{ kind: 'udp', port: 1, fd: 4 }], rlimits: [] }, /bridges\[0\]\.kind/],
      [{ bridges: [], rlimits: [{ resource: 'CORE', value: 0 }] }, /rlimits\[0\]\.resource must be AS, NPROC, CPU or NOFILE/],
      [{ bridges: [], rlimits: [{ resource: 'AS', value: -1 }] }, /rlimits\[0\]\.value must be an integer/],
      [{ bridges: [], rlimits: [], seccomp: new Uint8Array(12) }, /seccomp must be 1\.\.4096 struct sock_filter/],
      [{ bridges: [], rlimits: [], seccompQuiet: new Uint8Array(0) }, /seccompQuiet must be 1\.\.4096 struct sock_filter/],
      [{ bridges: [], rlimits: [], landlock: { abi: 1, handledAccessFs: 1.5, handledAccessNet: 0, scoped: 0, restrictFlags: 0, paths: [], ports: [] } }, /landlock\.handledAccessFs must be an integer/],
      [{ bridges: [], rlimits: [], landlock: { abi: 1, handledAccessFs: 1, handledAccessNet: 0, scoped: 0, restrictFlags: 0, paths: [{ access: 1, path: 'rel' }], ports: [] } }, /landlock\.paths\[0\]\.path must be an absolute path/],
    ];
    for (const [plan, message] of cases) assert.throws(() => encode(plan), { name: 'TypeError', message: message as RegExp });
  });
});
