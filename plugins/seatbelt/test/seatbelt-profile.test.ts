import { describe, expect, it } from 'vitest';
import { FenceError } from '@fence/core';
import { readFileSync, writeFileSync } from 'node:fs';
import { PROTECTED_DIRS, PROTECTED_FILES } from '@fence/core';
import { bothSpellings, buildSeatbeltProfile, globToRegex, protectedPathRegexes, sbplString } from '../src/seatbelt-profile.js';
import { testPolicy } from './policy.js';

const options = { httpProxyPort: 3128, socksProxyPort: 1080, exposedPorts: [], tmpDir: '/private/tmp/fence-1/tmp', logTag: 'fence-abc' };
const lines = (profile: string) => profile.split('\n');

/** Reads an SBPL string literal back the way Scheme does. */
function unquote(literal: string): string {
  expect(literal.startsWith('"') && literal.endsWith('"')).toBe(true);
  let out = '';
  for (let i = 1; i < literal.length - 1; i++) {
    const c = literal[i]!;
    if (c === '"') throw new Error(`unescaped quote at ${i} in ${literal}`);
    out += c === '\\' ? literal[++i]! : c;
  }
  return out;
}

describe('buildSeatbeltProfile', () => {
  const profile = buildSeatbeltProfile(testPolicy(), options);

  it('denies by default and tags every denial with the session log tag', () => {
    expect(lines(profile).slice(0, 2)).toEqual(['(version 1)', '(deny default (with message "fence-abc"))']);
    for (const l of lines(profile).filter((x) => x.startsWith('(deny'))) expect(l).toContain('(with message "fence-abc")');
  });

  it('allows running programs and signals only within the sandbox', () => {
    for (const l of ['(allow process-exec)', '(allow process-fork)', '(allow signal (target same-sandbox))', '(allow process-info* (target same-sandbox))']) {
      expect(lines(profile)).toContain(l);
    }
  });

  it('reaches the network only through the two proxy ports on localhost', () => {
    const i = lines(profile).indexOf('(allow network-outbound');
    expect(lines(profile).slice(i, i + 4)).toEqual(['(allow network-outbound', '  (remote tcp "localhost:3128")', '  (remote tcp "localhost:1080")', ')']);
    expect(profile.match(/network-outbound/g)).toHaveLength(1);
    expect(profile).not.toContain('network-bind');
    expect(profile).not.toContain('AF_UNIX');
  });

  it('writes only to the private tmp and allowWrite, then denies denyWrite after them', () => {
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { allowWrite: ['/work/build'], denyWrite: ['/work/build/keep'] } }), options);
    const allow = p.indexOf('(allow file-write*\n  (subpath "/private/tmp/fence-1/tmp")\n  (subpath "/tmp/fence-1/tmp")\n  (subpath "/work/build")\n)');
    const deny = p.indexOf('(deny file-write* (with message "fence-abc")\n  (subpath "/work/build/keep")');
    expect(allow).toBeGreaterThan(0);
    expect(deny).toBeGreaterThan(allow);
  });

  it('refuses to execute the command policy\'s unexecutable files, after allowing every other exec', () => {
    const p = buildSeatbeltProfile(testPolicy(), { ...options, unexecutable: ['/usr/bin/sudo', '/opt/box/busybox'] });
    expect(p).toContain('(allow process-exec)\n(deny process-exec (with message "fence-abc")\n  (literal "/usr/bin/sudo")\n  (literal "/opt/box/busybox")\n)');
    expect(buildSeatbeltProfile(testPolicy(), options)).not.toContain('deny process-exec');
  });

  it('reads everything except denyRead, files and globs alike', () => {
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { denyRead: ['/home/user/.ssh', '/work/**/*.pem'] } }), options);
    expect(p).toContain('(allow file-read*)\n(deny file-read* (with message "fence-abc")\n  (subpath "/home/user/.ssh")\n  (regex "^/work(/.*)?/[^/]*\\\\.pem(/.*)?$")\n)');
  });

  it('protects every mandatory name of the shared list under the working directory at any depth and in $HOME', () => {
    const res = protectedPathRegexes(testPolicy()).map((r) => new RegExp(r));
    const hit = (p: string) => res.some((r) => r.test(p));
    for (const name of [...PROTECTED_FILES, ...PROTECTED_DIRS, '.git/config', '.git/hooks/pre-commit']) {
      expect(hit(`/work/${name}`)).toBe(true);
      expect(hit(`/work/a/b/${name}`)).toBe(true);
      expect(hit(`/home/user/${name}`)).toBe(true);
    }
    for (const r of protectedPathRegexes(testPolicy())) expect(profile).toContain(`(regex ${sbplString(r)})`);
  });

  it('protects every git indirection: commondir, gitdir, info/, config.worktree, submodule and worktree hooks and config', () => {
    const res = protectedPathRegexes(testPolicy()).map((r) => new RegExp(r));
    const hit = (p: string) => res.some((r) => r.test(p));
    for (const p of ['.git/commondir', '.git/info/attributes', '.git/config.worktree', '.git/modules/lib/x/hooks/post-checkout', '.git/modules/sub/config', '.git/worktrees/w/gitdir', '.git/worktrees/w/config.worktree']) {
      expect(hit(`/work/${p}`), p).toBe(true);
    }
    // What git add and git commit write stays writable, even a branch named like a protected file.
    for (const p of ['.git/index', '.git/objects/ab/cdef', '.git/refs/heads/config', '.git/logs/refs/heads/info', '.git/COMMIT_EDITMSG']) {
      expect(hit(`/work/${p}`), p).toBe(false);
    }
  });

  it('leaves .git/config writable only with allowGitConfig', () => {
    const res = protectedPathRegexes(testPolicy({ filesystem: { allowGitConfig: true } })).map((r) => new RegExp(r));
    expect(res.some((r) => r.test('/work/.git/config'))).toBe(false);
    expect(res.some((r) => r.test('/work/.git/hooks/pre-commit'))).toBe(true);
  });

  it('forbids moving a denyRead or denyWrite path, or any of their ancestors, out from under its rule', () => {
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { denyRead: ['/home/user/.ssh', '/data/**/*.pem'], denyWrite: ['/srv/app/keep'] } }), options);
    const i = p.indexOf('(deny file-write-unlink');
    expect(p.slice(i, p.indexOf('\n)', i) + 2)).toBe(
      [
        '(deny file-write-unlink (with message "fence-abc")',
        '  (subpath "/home/user/.ssh")',
        '  (regex "^/data(/.*)?/[^/]*\\\\.pem(/.*)?$")',
        '  (literal "/data")',
        '  (literal "/home")',
        '  (literal "/home/user")',
        '  (literal "/srv")',
        '  (literal "/srv/app")',
        '  (literal "/work")',
        '  (regex "^/work/(.*/)?\\\\.git$")',
        ')',
      ].join('\n'),
    );
  });

  it('gives /tmp, /var and /etc paths in both spellings, since Seatbelt matches the /private real path', () => {
    expect(bothSpellings('/var/folders/ab/T')).toEqual(['/private/var/folders/ab/T', '/var/folders/ab/T']);
    expect(bothSpellings('/private/tmp/x')).toEqual(['/private/tmp/x', '/tmp/x']);
    expect(bothSpellings('/variable')).toEqual(['/variable']);
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { denyRead: ['/etc/secret'] } }), { ...options, tmpDir: '/private/var/folders/ab/T/f/tmp' });
    expect(p).toContain('(allow file-write*\n  (subpath "/private/var/folders/ab/T/f/tmp")\n  (subpath "/var/folders/ab/T/f/tmp")\n)');
    expect(p).toContain('(deny file-read* (with message "fence-abc")\n  (subpath "/private/etc/secret")\n  (subpath "/etc/secret")\n)');
  });

  it('reads only named sysctls, reaches no diagnostics service, shares memory only by name', () => {
    expect(lines(profile)).not.toContain('(allow sysctl-read)');
    expect(profile).toContain('(sysctl-name "hw.ncpu")');
    expect(profile).not.toContain('kern.procargs');
    expect(profile).not.toMatch(/diagnosticd|analyticsd/);
    expect(lines(profile)).not.toContain('(allow ipc-posix-shm)');
    expect(lines(profile)).toContain('(allow mach-host*)');
  });

  it('allows certificate trust (trustd fetches from the network) only when some domain is allowed', () => {
    expect(profile).not.toContain('com.apple.trustd.agent');
    const tls = buildSeatbeltProfile(testPolicy({ network: { allowedDomains: ['github.com'] } }), options);
    expect(tls).toContain('(global-name "com.apple.trustd.agent")');
  });

  it('lets the command open pseudo-terminals', () => {
    expect(lines(profile)).toContain('(allow pseudo-tty)');
    expect(lines(profile)).toContain('(allow file-read* file-write* file-ioctl (literal "/dev/ptmx"))');
  });

  it('lets the command listen only with allowLocalBinding or an exposed port, dual-stack sockets included', () => {
    const bound = buildSeatbeltProfile(testPolicy({ network: { allowLocalBinding: true } }), options);
    expect(lines(bound)).toContain('(allow network-bind network-inbound (local ip "*:*"))');
    expect(lines(bound)).toContain('(allow network-outbound (remote ip "localhost:*"))');
    expect(bound).not.toContain('(remote ip "*');
    const exposed = buildSeatbeltProfile(testPolicy(), { ...options, exposedPorts: [8080] });
    expect(exposed).toContain('(allow network-bind network-inbound\n  (local ip "*:8080")\n)');
  });

  it('allows Unix sockets by path, or all of them', () => {
    const some = buildSeatbeltProfile(testPolicy({ network: { allowUnixSockets: ['/var/run/docker.sock'] } }), options);
    expect(some).toContain('(allow system-socket (socket-domain AF_UNIX))');
    expect(some).toContain('(remote unix-socket (path-literal "/var/run/docker.sock"))');
    const all = buildSeatbeltProfile(testPolicy({ network: { allowAllUnixSockets: true } }), options);
    expect(all).toContain('(allow network-outbound (remote unix))');
  });

  it('cannot be injected through a path holding a quote and a parenthesis', () => {
    const evil = '/work/x") (allow default) ("';
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { allowWrite: [evil], denyRead: ['/work/a\\"b*'] } }), options);
    expect(p).not.toMatch(/^\(allow default\)/m);
    const literal = /\(subpath ("(?:[^"\\]|\\.)*")\)/.exec(p.slice(p.indexOf('/work/x')  - 20))![1]!;
    expect(unquote(literal)).toBe(evil);
    // Every string literal in the profile closes where it should: balanced parentheses outside strings.
    let depth = 0;
    for (const l of lines(p)) {
      const outside = l.replace(/#?"(?:[^"\\]|\\.)*"/g, '""');
      expect(outside).not.toContain('"""');
      depth += (outside.match(/\(/g) ?? []).length - (outside.match(/\)/g) ?? []).length;
    }
    expect(depth).toBe(0);
  });

  it('refuses a path with a control character rather than writing a broken profile', () => {
    const build = () => buildSeatbeltProfile(testPolicy({ filesystem: { denyRead: ['/work/a\nb'] } }), options);
    expect(build).toThrow(FenceError);
    expect(build).toThrow(/filesystem\.denyRead\[0\]: "\/work\/a\?b" contains a control character/);
  });

  it('refuses a proxy port outside 1..65535', () => {
    expect(() => buildSeatbeltProfile(testPolicy(), { ...options, httpProxyPort: 0 })).toThrow(/network\.httpProxyPort: port 0/);
  });
});

describe('buildSeatbeltProfile: what macOS can express of the Linux-first settings', () => {
  const network = (settings: Parameters<typeof testPolicy>[0]) => buildSeatbeltProfile(testPolicy(settings), options).split('\n');

  it('allows outbound TCP to exactly the listed ports of localhost (127.0.0.1 and ::1), only with allowLocalOutbound', () => {
    const lines = network({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [5432] } });
    expect(lines).toContain('  (remote tcp "localhost:5432")');
    expect(lines.filter((l) => l.includes('localhost:') && !/:(3128|1080|5432)"/.test(l))).toEqual([]);
  });

  it('needs no profile rule for the upstream proxy (the host proxies reach it) and ignores devices (Linux only)', () => {
    const plain = buildSeatbeltProfile(testPolicy(), options);
    expect(buildSeatbeltProfile(testPolicy({ network: { defaultAction: 'proxy', upstreamProxy: 'http://127.0.0.1:8080' }, devices: { mode: 'host' } }), options)).toBe(plain);
  });
});

describe('buildSeatbeltProfile golden profiles', () => {
  // The exact text, reviewed line by line when it changes (UPDATE_GOLDEN=1 rewrites the files).
  const cases = {
    'default-policy': () => buildSeatbeltProfile(testPolicy(), options),
    'workspace-with-domains': () =>
      buildSeatbeltProfile(
        testPolicy({
          filesystem: { allowWrite: ['/work', '/var/folders/ab/cache'], denyRead: ['/home/user/.ssh', '/work/**/*.pem'], denyWrite: ['/work/dist/keep'], allowGitConfig: true },
          network: { allowedDomains: ['github.com'], allowLocalBinding: true, allowUnixSockets: ['/var/run/docker.sock'] },
        }),
        { ...options, exposedPorts: [8080], tmpDir: '/private/var/folders/xy/T/fence-1/tmp' },
      ),
    'local-outbound-ports': () =>
      buildSeatbeltProfile(testPolicy({ network: { allowLocalOutbound: true, allowLocalOutboundPorts: [5432, 6379], defaultAction: 'proxy', upstreamProxy: 'http://127.0.0.1:8080' }, devices: { mode: 'host' } }), options),
  };
  for (const [name, build] of Object.entries(cases)) {
    it(`matches test/golden/${name}.sb`, () => {
      const file = new URL(`golden/${name}.sb`, import.meta.url);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, build());
      expect(build()).toBe(readFileSync(file, 'utf8'));
    });
  }
});

describe('globToRegex', () => {
  it('turns ** into any depth, * into one name part and ? into one character', () => {
    expect(globToRegex('/work/**/*.key')).toBe('^/work(/.*)?/[^/]*\\.key(/.*)?$');
    expect(globToRegex('/work/dist/**')).toBe('^/work/dist(/.*)?$');
    expect(globToRegex('/work/file?.txt')).toBe('^/work/file[^/]\\.txt(/.*)?$');
  });

  it('keeps character classes and negates [!...]', () => {
    expect(globToRegex('/work/[ab].env')).toBe('^/work/[ab]\\.env(/.*)?$');
    expect(globToRegex('/work/[!a]x')).toBe('^/work/[^a]x(/.*)?$');
  });

  it('escapes every regex metacharacter of the literal parts', () => {
    expect(globToRegex('/a.b+c(d)|e^f$g{h}/*')).toBe('^/a\\.b\\+c\\(d\\)\\|e\\^f\\$g\\{h\\}/[^/]*(/.*)?$');
    const re = new RegExp(globToRegex('/w/a.b(c)/*.txt'));
    expect(re.test('/w/a.b(c)/x.txt')).toBe(true);
    expect(re.test('/w/aXb(c)/x.txt')).toBe(false);
    expect(re.test('/w/a.b(c)/d/x.txt')).toBe(false);
  });
});

describe('protectedPathRegexes', () => {
  it('matches protected names at any depth of the working directory but only at the top of $HOME', () => {
    const res = protectedPathRegexes(testPolicy()).map((r) => new RegExp(r));
    const hit = (p: string) => res.some((r) => r.test(p));
    expect(hit('/work/.bashrc')).toBe(true);
    expect(hit('/work/a/b/.git/hooks/pre-commit')).toBe(true);
    expect(hit('/work/a/.git/config')).toBe(true);
    expect(hit('/home/user/.zshrc')).toBe(true);
    expect(hit('/home/user/src/.zshrc')).toBe(false);
    expect(hit('/work/.bashrc.bak')).toBe(false);
    expect(hit('/work/xbashrc')).toBe(false);
  });
});

describe('sbplString', () => {
  it('escapes backslashes and quotes', () => {
    expect(sbplString('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(unquote(sbplString('") (allow default) ("'))).toBe('") (allow default) ("');
  });
});
