import { describe, expect, it } from 'vitest';
import { FenceError } from '@fence/core';
import { buildSeatbeltProfile, globToRegex, PROTECTED_DIRS, PROTECTED_FILES, protectedPathRegexes, sbplString } from '../src/seatbelt-profile.js';
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
    const allow = p.indexOf('(allow file-write*\n  (subpath "/private/tmp/fence-1/tmp")\n  (subpath "/work/build")\n)');
    const deny = p.indexOf('(deny file-write* (with message "fence-abc")\n  (subpath "/work/build/keep")');
    expect(allow).toBeGreaterThan(0);
    expect(deny).toBeGreaterThan(allow);
  });

  it('reads everything except denyRead, files and globs alike', () => {
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { denyRead: ['/home/user/.ssh', '/work/**/*.pem'] } }), options);
    expect(p).toContain('(allow file-read*)\n(deny file-read* (with message "fence-abc")\n  (subpath "/home/user/.ssh")\n  (regex "^/work(/.*)?/[^/]*\\\\.pem(/.*)?$")\n)');
  });

  it('protects every mandatory name under the working directory at any depth and in $HOME', () => {
    for (const name of [...PROTECTED_FILES, ...PROTECTED_DIRS, '.git/config']) {
      const re = name.replace(/\./g, '\\\\.');
      expect(profile).toContain(`(regex "^/work/(.*/)?${re}`);
      expect(profile).toContain(`(regex "^/home/user/${re}`);
    }
    expect(profile).toContain('(regex "^/work/(.*/)?\\\\.vscode(/.*)?$")');
    expect(profile).toContain('(regex "^/home/user/\\\\.bashrc$")');
  });

  it('leaves .git/config writable only with allowGitConfig', () => {
    const p = buildSeatbeltProfile(testPolicy({ filesystem: { allowGitConfig: true } }), options);
    expect(p).not.toContain('.git/config');
    expect(p).toContain('\\\\.git/hooks(/.*)?$');
  });

  it('forbids renaming the working directory, its ancestors or a .git out from under the rules', () => {
    expect(profile).toContain('(deny file-write-unlink (with message "fence-abc")\n  (literal "/work")\n  (literal "/home")\n  (literal "/home/user")\n  (regex "^/work/(.*/)?\\\\.git$")\n)');
  });

  it('lets the command listen on localhost only with allowLocalBinding or an exposed port', () => {
    const bound = buildSeatbeltProfile(testPolicy({ network: { allowLocalBinding: true } }), options);
    expect(lines(bound)).toContain('(allow network-bind (local ip "localhost:*"))');
    const exposed = buildSeatbeltProfile(testPolicy(), { ...options, exposedPorts: [8080] });
    expect(exposed).toContain('(allow network-bind\n  (local ip "localhost:8080")\n)');
    expect(exposed).toContain('(allow network-inbound\n  (local ip "localhost:8080")\n)');
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
