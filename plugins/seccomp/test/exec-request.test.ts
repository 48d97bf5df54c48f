import { describe, expect, it } from 'vitest';
import { execFile, execRequest, unreadableExec } from '../src/exec-request.js';

describe('execFile', () => {
  it('names the file through the caller\'s root, working directory or descriptor', () => {
    expect(execFile({ tid: 7, dirfd: -100, flags: 0, path: '/usr/bin/git' })).toBe('/proc/7/root/usr/bin/git');
    expect(execFile({ tid: 7, dirfd: -100, flags: 0, path: './x' })).toBe('/proc/7/cwd/./x');
    expect(execFile({ tid: 7, dirfd: 5, flags: 0, path: 'bin/x' })).toBe('/proc/7/fd/5/bin/x');
    expect(execFile({ tid: 7, dirfd: 3, flags: 0x1000, path: '' })).toBe('/proc/7/fd/3');
  });
});

describe('execRequest and unreadableExec', () => {
  const e = { pid: 9, tid: 9, comm: 'sh', nr: 59, arch: 0xc000003e, dirfd: -100, flags: 0, readable: true, path: '/usr/bin/git', argv: ['git', 'push'] };

  it('hands the kernel\'s exec hook the caller and what it asked for', () => {
    expect(execRequest(e)).toEqual({ path: '/usr/bin/git', file: '/proc/9/root/usr/bin/git', argv: ['git', 'push'], pid: 9, process: 'sh' });
  });

  it('reports an unreadable exec as a refusal that says why', () => {
    expect(unreadableExec({ ...e, path: '' }, 1)).toMatchObject({ source: 'command', action: 'block', target: '?', pid: 9, reason: expect.stringMatching(/could not be read; runtimeExecPolicy "argv" refuses/) });
  });
});
