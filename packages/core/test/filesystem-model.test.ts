import { spawnSync } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { globMatches, globToPosixRegex } from '../src/filesystem/glob.js';
import { resolveRule, ruleCovers, ruleMatches, type PathRule } from '../src/filesystem/model.js';
import { readableRoots } from '../src/filesystem/readable.js';
import { FilesystemSchema, SettingsSchema } from '../src/settings/schema.js';
import { resolveFilesystem } from '../src/settings/paths.js';
import { removeTrees, tempTree } from './temp-tree.js';

afterAll(removeTrees);

/** A rule resolved on a machine where every path is real. */
const rule = (written: string, cwd = '/w', home = '/home/u'): PathRule => resolveRule('denyRead', 0, written, cwd, home, (p) => p);

describe('resolveRule: each entry once, with its provenance', () => {
  it('makes ~, ./, ../ and relative paths absolute and says what they were resolved against', () => {
    expect(rule('~/.ssh')).toMatchObject({ reached: 'home', absolute: '/home/u/.ssh', real: '/home/u/.ssh', written: '~/.ssh' });
    expect(rule('./a/../b')).toMatchObject({ reached: 'cwd', absolute: '/w/b' });
    expect(rule('/etc/x')).toMatchObject({ reached: 'absolute', absolute: '/etc/x' });
    expect(rule('**/.env')).toMatchObject({ reached: 'any-depth', real: '/w', glob: { pattern: '/w/**/.env', tree: false } });
  });

  it('keeps the path as written, as reached and as real when a symlink is on the way', () => {
    const root = tempTree({ 'real/key': 'k', 'work/': '' });
    symlinkSync(path.join(root, 'real'), path.join(root, 'work/link'));
    const r = resolveFilesystem(FilesystemSchema.parse({ denyRead: ['link/key', 'link/**/*.pem'] }), path.join(root, 'work'), root);
    expect(r.denyRead[0]).toMatchObject({ written: 'link/key', absolute: path.join(root, 'work/link/key'), real: path.join(root, 'real/key') });
    expect(r.denyRead[1]).toMatchObject({ absolute: path.join(root, 'work/link'), real: path.join(root, 'real'), glob: { pattern: path.join(root, 'real/**/*.pem') } });
  });

  it('gives a glob the directory it can only match beneath, and dir/** is that directory', () => {
    expect(rule('/w/build/**')).toMatchObject({ real: '/w/build', glob: { tree: true } });
    expect(rule('/w/**/.cache').real).toBe('/w');
    expect(rule('/w/logs/*.log').real).toBe('/w/logs');
    expect(rule('/w/out-?/x').real).toBe('/w');
    expect(rule('/w/[ab].env').real).toBe('/w');
    expect(rule('/*').real).toBe('/');
    // picomatch's own syntax is literal in Fence's globs.
    expect(rule('/w/a.b(c)/*.txt').real).toBe('/w/a.b(c)');
  });

  it('refuses brace patterns in the settings, saying why', () => {
    const r = SettingsSchema.safeParse({ filesystem: { denyRead: ['/w/{a,b}'] } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toContain('brace');
  });
});

describe('matching (picomatch)', () => {
  it('matches ** at any depth, including none, * and ? within one name, classes', () => {
    expect(globMatches('/w/**/*.key', '/w/a.key')).toBe(true);
    expect(globMatches('/w/**/*.key', '/w/x/y/b.key')).toBe(true);
    expect(globMatches('/w/**/*.key', '/w/x/b.keys')).toBe(false);
    expect(globMatches('/w/*.txt', '/w/x/a.txt')).toBe(false);
    expect(globMatches('/w/*.txt', '/w/.hidden.txt')).toBe(true);
    expect(globMatches('/w/file?.[ab]', '/w/file1.b')).toBe(true);
    expect(globMatches('/w/[!a]x', '/w/bx')).toBe(true);
    expect(globMatches('/w/[!a]x', '/w/ax')).toBe(false);
    expect(globMatches('/w/a.b(c)/*.txt', '/w/a.b(c)/x.txt')).toBe(true);
    expect(globMatches('/w/a.b(c)/*.txt', '/w/a.bc/x.txt')).toBe(false);
  });

  it('tells a rule that names a path from one that covers it', () => {
    expect(ruleMatches(rule('/w/**/*.pem'), '/w/a/k.pem')).toBe(true);
    expect(ruleMatches(rule('/w/**/*.pem'), '/w/a/k.pem/inside')).toBe(false);
    expect(ruleCovers(rule('/w/**/*.pem'), '/w/a/k.pem/inside')).toBe(true);
    expect(ruleCovers(rule('/w/sub'), '/w/sub/x')).toBe(true);
    expect(ruleCovers(rule('/w/sub'), '/w/subx')).toBe(false);
    expect(ruleCovers(rule('/w/*/out'), '/w/a/out/f')).toBe(true);
    expect(ruleCovers(rule('/w/*/out'), '/w/a/b/out/f')).toBe(false);
  });
});

describe('globToPosixRegex (Seatbelt)', () => {
  it('turns ** into any depth, * into one name part and ? into one character', () => {
    expect(globToPosixRegex('/work/**/*.key')).toBe('^/work(/.*)?/[^/]*\\.key(/.*)?$');
    expect(globToPosixRegex('/work/dist/**')).toBe('^/work/dist(/.*)?$');
    expect(globToPosixRegex('/work/file?.txt')).toBe('^/work/file[^/]\\.txt(/.*)?$');
  });

  it('keeps character classes and negates [!...]', () => {
    expect(globToPosixRegex('/work/[ab].env')).toBe('^/work/[ab]\\.env(/.*)?$');
    expect(globToPosixRegex('/work/[!a]x')).toBe('^/work/[^a]x(/.*)?$');
  });

  it('escapes every regex metacharacter of the literal parts', () => {
    expect(globToPosixRegex('/a.b+c(d)|e^f$g{h}/*')).toBe('^/a\\.b\\+c\\(d\\)\\|e\\^f\\$g\\{h\\}/[^/]*(/.*)?$');
    const re = new RegExp(globToPosixRegex('/w/a.b(c)/*.txt'));
    expect(re.test('/w/a.b(c)/x.txt')).toBe(true);
    expect(re.test('/w/aXb(c)/x.txt')).toBe(false);
    expect(re.test('/w/a.b(c)/d/x.txt')).toBe(false);
  });

  it('means what the matcher means: a path is covered by the rule exactly when the regex matches it', () => {
    const globs = ['/w/**/*.key', '/w/dist/**', '/w/*/out', '/w/file?.[ab]', '/w/[!a]x', '/w/a.b(c)/*.txt', '/w/**/.git/hooks', '/w/x**y'];
    const paths = ['/w/a.key', '/w/d/e/f.key', '/w/f.keys', '/w/dist', '/w/dist/a/b', '/w/distx', '/w/a/out', '/w/a/out/f', '/w/a/b/out', '/w/file1.b', '/w/file12.b', '/w/bx', '/w/ax', '/w/a.b(c)/x.txt', '/w/abbc/x.txt', '/w/.git/hooks/pre-commit', '/w/s/.git/hooks', '/w/xzy', '/w/xz/y'];
    for (const g of globs) {
      const re = new RegExp(globToPosixRegex(g));
      for (const p of paths) expect(re.test(p), `${g} ~ ${p}`).toBe(ruleCovers(rule(g), p));
    }
  });
});

describe('picomatch is loaded only for a policy that has a glob', () => {
  const loaded = (settings: object): string => {
    const script = `import('@fence/core').then((c) => {
      c.loadPolicy({ cwd: '/', home: '/nonexistent', env: {}, inline: ${JSON.stringify(settings)} });
      console.log(Object.keys(require('module')._cache).some((k) => k.includes('/picomatch/')));
    })`;
    return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: import.meta.dirname }).stdout.trim();
  };
  it('not for plain paths, and for a glob', { timeout: 60_000 }, () => {
    expect(loaded({ filesystem: { denyRead: ['/etc/x', '~/y'], allowWrite: ['/tmp'] } })).toBe('false');
    expect(loaded({ filesystem: { denyRead: ['**/*.pem'] } })).toBe('true');
  });
});

describe('readableRoots (read isolation)', () => {
  const policyOf = (filesystem: object, cwd = '/w') => {
    const fs = FilesystemSchema.parse(filesystem);
    return { filesystem: fs, paths: resolveFilesystem(fs, cwd, '/home/u', (p) => p), cwd };
  };
  const exists = (p: string) => (p === '/lib32' ? undefined : p);
  // A platform as its sandbox layer names it (Tokens.PlatformPaths).
  const platform = { system: ['/usr', '/lib32', '/etc'], sandbox: ['/dev', '/proc', '/tmp'] };

  it('is everything (undefined) without defaultDenyRead or strictDenyRead', () => {
    expect(readableRoots(policyOf({}), platform, exists)).toBeUndefined();
  });

  it('with defaultDenyRead: the system paths that exist, the sandbox\'s own, the working directory and the allow lists, never $HOME', () => {
    const roots = readableRoots(policyOf({ defaultDenyRead: true, allowRead: ['/data'], allowExecute: ['/opt/t/bin'], allowWrite: ['./out'] }), platform, exists)!;
    expect(roots).toContainEqual({ path: '/usr', access: 'read', from: 'system' });
    expect(roots.some((r) => r.path === '/lib32')).toBe(false);
    expect(roots).toContainEqual({ path: '/proc', access: 'read', from: 'sandbox' });
    expect(roots).toContainEqual({ path: '/w', access: 'read', from: 'working directory' });
    expect(roots).toContainEqual({ path: '/data', access: 'read', from: 'filesystem.allowRead[0]' });
    expect(roots).toContainEqual({ path: '/opt/t/bin', access: 'execute', from: 'filesystem.allowExecute[0]' });
    expect(roots).toContainEqual({ path: '/w/out', access: 'write', from: 'filesystem.allowWrite[0]' });
    expect(roots.some((r) => r.path.startsWith('/home'))).toBe(false);
  });

  it('with strictDenyRead: no system path, and a working directory of / is not the whole host', () => {
    const roots = readableRoots(policyOf({ strictDenyRead: true, allowRead: ['/usr'] }, '/'), platform, exists)!;
    expect(roots.filter((r) => r.from === 'system')).toEqual([]);
    expect(roots.some((r) => r.path === '/')).toBe(false);
    expect(roots).toContainEqual({ path: '/usr', access: 'read', from: 'filesystem.allowRead[0]' });
  });

  it('refuses a glob outside the working directory in the allow lists, naming the field', () => {
    expect(() => policyOf({ defaultDenyRead: true, allowRead: ['/data/*.csv'] })).toThrow(/filesystem\.allowRead\[0\]: "\/data\/\*\.csv" is a glob outside the working directory/);
    expect(() => policyOf({ defaultDenyRead: true, allowRead: ['/data/**', './src/*.ts'] })).not.toThrow();
  });
});

describe('read isolation and symlinks', () => {
  it('refuses an allowRead or allowExecute entry that a planted symlink leads elsewhere ($HOME), naming both paths', () => {
    const root = tempTree({ 'home/notes/secret': 's', 'work/': '' });
    symlinkSync(path.join(root, 'home'), path.join(root, 'work/docs'));
    const resolve = (filesystem: object) => () => resolveFilesystem(FilesystemSchema.parse(filesystem), path.join(root, 'work'), path.join(root, 'home'));
    expect(resolve({ defaultDenyRead: true, allowRead: ['docs'] })).toThrow(`filesystem.allowRead[0]: "docs" is a symlink to ${path.join(root, 'home')}; name the real path "${path.join(root, 'home')}" in allowRead to allow it`);
    expect(resolve({ strictDenyRead: true, allowExecute: ['docs/notes'] })).toThrow(/filesystem\.allowExecute\[0\]: "docs\/notes" leads through a symlink/);
    expect(resolve({ defaultDenyRead: true, allowRead: ['docs', path.join(root, 'home')] })).not.toThrow();
    // Without read isolation, allowRead only brings back a credential store: nothing to widen.
    expect(resolve({ allowRead: ['docs'] })).not.toThrow();
  });
});
