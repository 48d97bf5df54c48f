import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FenceError } from '../../src/errors.js';
import { loadPolicy, type LoadOptions } from '../../src/settings/load.js';
import { removeTrees, tempTree } from '../temp-tree.js';

afterEach(removeTrees);

/** A working directory and a fake home and XDG directory, none under a settings file. */
function world(files: Record<string, string> = {}): { root: string; opts: LoadOptions } {
  const root = tempTree({ 'home/': '', 'work/project/': '', ...files });
  const home = path.join(root, 'home');
  return { root, opts: { cwd: path.join(root, 'work/project'), home, env: { XDG_CONFIG_HOME: path.join(home, 'xdg') } } };
}

function loadError(opts: LoadOptions): FenceError {
  try {
    loadPolicy(opts);
  } catch (e) {
    if (e instanceof FenceError) return e;
    throw e;
  }
  throw new Error('expected loadPolicy to fail');
}

const chainFiles = (length: number): Record<string, string> =>
  Object.fromEntries(
    Array.from({ length }, (_, i) => [`c/f${i}.json`, JSON.stringify(i + 1 < length ? { extends: `./f${i + 1}.json`, plugins: [`p${i}`] } : { plugins: [`p${i}`] })]),
  );

describe('loadPolicy: validation', () => {
  it('names an unknown key with the file and the closest known key', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{"network": {"allowedDomian": []}}' });
    const error = loadError(opts);
    expect(error.code).toBe('SETTINGS_INVALID');
    expect(error.message).toBe(`${root}/work/project/fence.json: invalid settings:\n  network.allowedDomian: unknown key; did you mean "allowedDomains"?`);
  });

  it('lists the known keys when nothing is close', () => {
    const { opts } = world({ 'work/project/fence.json': '{"banana": 1}' });
    expect(loadError(opts).message).toContain('  banana: unknown key; known keys: $schema, extends, network, filesystem, devices, command, ssh, environment, limits, plugins');
  });

  it('reports every problem of a file, each with its field path', () => {
    const { opts } = world({ 'work/project/fence.json': '{"network": {"httpProxyPort": 70000, "allowLocalBinding": "yes"}, "limits": {"processes": -1}, "filesystem": {"allowWrite": ["ok", ""]}}' });
    const message = loadError(opts).message;
    expect(message).toContain('  network.httpProxyPort: must be 1..65535');
    expect(message).toContain('  network.allowLocalBinding: expected a boolean, got a string');
    expect(message).toContain('  limits.processes: must be 0 (no limit) or more');
    expect(message).toContain('  filesystem.allowWrite[1]: empty path');
  });

  it('refuses another user\'s home in a path field', () => {
    const { opts } = world();
    expect(loadError({ ...opts, inline: { filesystem: { denyRead: ['~/a', '~bob/x'] } } }).message).toContain('filesystem.denyRead[1]: another user');
  });

  it('refuses an empty command rule and a program name with a directory', () => {
    const { opts } = world();
    expect(loadError({ ...opts, inline: { command: { deny: [' '] } } }).message).toContain('command.deny[0]: empty command rule');
    expect(loadError({ ...opts, inline: { command: { acceptSharedBinaryCannotRuntimeDeny: ['/bin/x'] } } }).message).toContain('command.acceptSharedBinaryCannotRuntimeDeny[0]: must be one program name');
    expect(loadError({ ...opts, inline: { ssh: { allowedHosts: ['me@host'] } } }).message).toContain('ssh.allowedHosts[0]: must be a host name');
  });

  it('checks that the proxy ports differ only after merging', () => {
    const { root, opts } = world({
      'work/project/base.json': '{"network": {"httpProxyPort": 8080}}',
      'work/project/fence.json': '{"extends": "./base.json", "network": {"socksProxyPort": 3128}}',
      'work/project/clash.json': '{"extends": "./base.json", "network": {"socksProxyPort": 8080}}',
    });
    expect(loadPolicy(opts).policy.network).toMatchObject({ httpProxyPort: 8080, socksProxyPort: 3128 });
    const error = loadError({ ...opts, settingsFile: 'clash.json' });
    expect(error.message).toBe(`${root}/work/project/clash.json (with what it extends): invalid settings:\n  network.socksProxyPort: must differ from httpProxyPort`);
  });

  it('leaves nothing behind when settings are bad', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{"network": {"allowedDomains": ["*"]}}' });
    const tmpBefore = readdirSync(tmpdir()).sort();
    const treeBefore = readdirSync(root, { recursive: true }).sort();
    expect(loadError(opts).code).toBe('SETTINGS_INVALID');
    expect(readdirSync(root, { recursive: true }).sort()).toEqual(treeBefore);
    expect(readdirSync(tmpdir()).filter((n) => !tmpBefore.includes(n) && n.startsWith('fence'))).toEqual([]);
  });
});

describe('loadPolicy: extends', () => {
  it('merges lists, booleans and scalars from a parent file', () => {
    const { opts } = world({
      'work/base.jsonc': '{ "network": { "allowedDomains": ["a.com", "b.com"], "allowLocalBinding": true, "httpProxyPort": 8080 }, "limits": { "processes": 50 } }',
      'work/project/fence.jsonc': '{ "extends": "../base.jsonc", "network": { "allowedDomains": ["b.com", "c.com"], "allowLocalBinding": false }, "limits": { "processes": 100 } }',
    });
    const { policy } = loadPolicy(opts);
    expect(policy.network.allowedDomains).toEqual(['a.com', 'b.com', 'c.com']);
    expect(policy.network.allowLocalBinding).toBe(true);
    expect(policy.network.httpProxyPort).toBe(8080);
    expect(policy.limits.processes).toBe(100);
  });

  it('resolves extends paths against the file that names them', () => {
    const { root, opts } = world({
      'conf/a/fence.json': '{"extends": "../b/base.json"}',
      'conf/b/base.json': '{"extends": "./more.json", "plugins": ["x"]}',
      'conf/b/more.json': '{"plugins": ["y"]}',
    });
    const loaded = loadPolicy({ ...opts, settingsFile: path.join(root, 'conf/a/fence.json') });
    expect(loaded.policy.plugins).toEqual(['y', 'x']);
    expect(loaded.files).toEqual(['conf/b/more.json', 'conf/b/base.json', 'conf/a/fence.json'].map((f) => path.join(root, f)));
  });

  it('resolves ~/ in extends against the home directory', () => {
    const { opts } = world({ 'home/base.json': '{"plugins": ["from-home"]}', 'work/project/fence.json': '{"extends": "~/base.json"}' });
    expect(loadPolicy(opts).policy.plugins).toEqual(['from-home']);
  });

  it('extends a built-in template by name', () => {
    const { opts } = world({ 'work/project/fence.json': '{"extends": "pip-install", "network": {"allowedDomains": ["example.com"]}}' });
    const { policy, sources } = loadPolicy(opts);
    expect(policy.network.allowedDomains).toEqual(['pypi.org', 'files.pythonhosted.org', 'example.com']);
    expect(sources.find((s) => s.field === 'network.allowedDomains[0]')?.from).toBe('template:pip-install');
  });

  it('accepts a chain of 10 extends', () => {
    const { root, opts } = world(chainFiles(11));
    expect(loadPolicy({ ...opts, settingsFile: path.join(root, 'c/f0.json') }).policy.plugins).toHaveLength(11);
  });

  it('refuses a chain of 11 extends, naming the chain', () => {
    const { root, opts } = world(chainFiles(12));
    const error = loadError({ ...opts, settingsFile: path.join(root, 'c/f0.json') });
    expect(error.code).toBe('EXTENDS_DEPTH');
    expect(error.message).toContain(`${root}/c/f0.json -> ${root}/c/f1.json`);
    expect(error.message).toContain(`-> ${root}/c/f11.json`);
  });

  it('refuses a cycle, naming the chain', () => {
    const { root, opts } = world({ 'c/a.json': '{"extends": "./b.json"}', 'c/b.json': '{"extends": "./a.json"}' });
    const error = loadError({ ...opts, settingsFile: path.join(root, 'c/a.json') });
    expect(error.code).toBe('EXTENDS_CYCLE');
    expect(error.message).toBe(`"extends" cycle: ${root}/c/a.json -> ${root}/c/b.json -> ${root}/c/a.json; remove one of these "extends"`);
  });

  it('refuses a file that extends itself through a symlink', () => {
    const { root, opts } = world({ 'c/a.json': '{"extends": "./link.json"}' });
    symlinkSync(path.join(root, 'c/a.json'), path.join(root, 'c/link.json'));
    expect(loadError({ ...opts, settingsFile: path.join(root, 'c/a.json') }).code).toBe('EXTENDS_CYCLE');
  });

  it('refuses a missing template or file, listing the templates', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{"extends": "npm-instal"}' });
    const error = loadError(opts);
    expect(error.code).toBe('EXTENDS_MISSING');
    expect(error.message).toBe(
      `${root}/work/project/fence.json: extends: "npm-instal" is neither a built-in template (default-deny, workspace-write, npm-install, pip-install, git-readonly, local-dev-server, agent-api-only, code, code-relaxed), "@base" (your own settings file) nor an existing file`,
    );
  });

  it('starts from the template option, which the settings then extend', () => {
    const { opts } = world({ 'work/project/fence.json': '{"network": {"allowedDomains": ["example.com"]}}' });
    const { policy } = loadPolicy({ ...opts, template: 'agent-api-only' });
    expect(policy.network.allowedDomains).toEqual(['api.anthropic.com', 'api.openai.com', 'generativelanguage.googleapis.com', 'example.com']);
  });

  it('refuses an unknown template option', () => {
    const { opts } = world();
    expect(loadError({ ...opts, template: 'nope' }).code).toBe('TEMPLATE_UNKNOWN');
  });
});

describe('loadPolicy: discovery', () => {
  it('uses the default policy when no settings exist', () => {
    const { opts } = world();
    const { policy, files, sources } = loadPolicy(opts);
    expect(files).toEqual([]);
    expect(policy.network.allowedDomains).toEqual([]);
    expect(policy.filesystem.allowWrite).toEqual([]);
    expect(policy.command.useDefaults).toBe(true);
    expect(sources.every((s) => s.from === 'default' || s.from.startsWith('defaults:credential-'))).toBe(true);
  });

  it('prefers an explicit file over everything else', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{"plugins": ["found"]}', 'explicit.jsonc': '{"plugins": ["explicit"]}' });
    expect(loadPolicy({ ...opts, settingsFile: '../../explicit.jsonc' })).toMatchObject({ policy: { plugins: ['explicit'] }, files: [path.join(root, 'explicit.jsonc')] });
  });

  it('refuses a missing explicit file', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{}' });
    const error = loadError({ ...opts, settingsFile: 'missing.json' });
    expect(error.code).toBe('SETTINGS_MISSING');
    expect(error.message).toContain(path.join(root, 'work/project/missing.json'));
  });

  it('refuses an explicit path that is a directory', () => {
    const { opts } = world({ 'work/project/conf/': '' });
    expect(loadError({ ...opts, settingsFile: 'conf' }).code).toBe('SETTINGS_UNREADABLE');
  });

  it('inside a Fence sandbox, passes over the empty placeholders of missing settings names (an agent hook runs fence there)', () => {
    const { root, opts } = world({ 'work/project/fence.jsonc': '', 'work/fence.json': '{"plugins": ["outer"]}' });
    expect(loadPolicy({ ...opts, env: { ...opts.env, FENCE_SANDBOX: '1' } }).files).toEqual([path.join(root, 'work/fence.json')]);
    expect(loadError(opts).message).toMatch(/fence\.jsonc:1:1: the file is empty/);
  });

  it('reports a syntax error of a discovered file with its position', () => {
    const { root, opts } = world({ 'work/fence.jsonc': '{\n  "plugins": [,]\n}' });
    expect(loadError(opts)).toMatchObject({ code: 'SETTINGS_PARSE', message: `${root}/work/fence.jsonc:2:15: expected a value` });
  });

  it('finds fence.jsonc before fence.json in the working directory', () => {
    const { root, opts } = world({ 'work/project/fence.json': '{"plugins": ["json"]}', 'work/project/fence.jsonc': '{"plugins": ["jsonc"]}' });
    expect(loadPolicy(opts).files).toEqual([path.join(root, 'work/project/fence.jsonc')]);
  });

  it('finds a file in a parent directory before the XDG one', () => {
    const { root, opts } = world({ 'work/fence.json': '{}', 'home/xdg/fence/fence.json': '{}', 'home/.fence.json': '{}' });
    expect(loadPolicy(opts).files).toEqual([path.join(root, 'work/fence.json')]);
  });

  it('finds $XDG_CONFIG_HOME/fence/fence.jsonc before ~/.fence.json', () => {
    const { root, opts } = world({ 'home/xdg/fence/fence.jsonc': '{}', 'home/.fence.json': '{}' });
    expect(loadPolicy(opts).files).toEqual([path.join(root, 'home/xdg/fence/fence.jsonc')]);
  });

  it('uses ~/.config when XDG_CONFIG_HOME is unset', () => {
    const { root, opts } = world({ 'home/.config/fence/fence.json': '{}', 'home/.fence.json': '{}' });
    expect(loadPolicy({ ...opts, env: {} }).files).toEqual([path.join(root, 'home/.config/fence/fence.json')]);
  });

  it('falls back to ~/.fence.json', () => {
    const { root, opts } = world({ 'home/.fence.json': '{}' });
    expect(loadPolicy(opts).files).toEqual([path.join(root, 'home/.fence.json')]);
  });

  it('ignores a directory named fence.json', () => {
    const { root, opts } = world({ 'work/project/fence.json/': '', 'home/.fence.json': '{}' });
    expect(loadPolicy(opts).files).toEqual([path.join(root, 'home/.fence.json')]);
  });

  it('does not discover files when inline settings are given', () => {
    const { opts } = world({ 'work/project/fence.json': '{"plugins": ["file"]}' });
    const loaded = loadPolicy({ ...opts, inline: { plugins: ['inline'] } });
    expect(loaded).toMatchObject({ policy: { plugins: ['inline'] }, files: [], sources: expect.arrayContaining([{ field: 'plugins[0]', from: 'inline' }]) });
  });

  it('names inline settings in errors', () => {
    const { opts } = world();
    expect(loadError({ ...opts, inline: { limits: { processes: 1.5 } } }).message).toBe('inline settings: invalid settings:\n  limits.processes: must be a whole number');
  });
});

describe('loadPolicy: paths', () => {
  it('resolves ~, ./, ../ and relative paths against home and the working directory', () => {
    const { root, opts } = world();
    const { policy } = loadPolicy({ ...opts, inline: { filesystem: { allowWrite: ['~', '~/.npm', './build', '../shared', 'out', '/abs/x/../y'] } } });
    const home = path.join(root, 'home');
    const cwd = path.join(root, 'work/project');
    expect(policy.filesystem.allowWrite).toEqual([home, `${home}/.npm`, `${cwd}/build`, `${root}/work/shared`, `${cwd}/out`, '/abs/y']);
    expect(policy.cwd).toBe(cwd);
    expect(policy.home).toBe(home);
  });

  it('resolves relative paths against the working directory, not the settings file', () => {
    const { root, opts } = world({ 'work/fence.json': '{"filesystem": {"denyWrite": ["./x"]}}' });
    expect(loadPolicy(opts).policy.filesystem.denyWrite).toEqual([path.join(root, 'work/project/x')]);
  });

  it('resolves symlinks of existing paths and of the existing part of new ones', () => {
    const { root, opts } = world({ 'real/data/': '' });
    symlinkSync(path.join(root, 'real'), path.join(opts.cwd, 'link'));
    const { policy } = loadPolicy({ ...opts, inline: { filesystem: { denyWrite: ['link/data', 'link/new/file'], denyRead: ['link/**/*.key', '**/.env'] } } });
    expect(policy.filesystem.denyWrite).toEqual([path.join(root, 'real/data'), path.join(root, 'real/new/file')]);
    // After the built-in credential stores (settings/secrets.ts).
    expect(policy.filesystem.denyRead.slice(-2)).toEqual([path.join(root, 'real/**/*.key'), '**/.env']);
  });

  it('resolves a symlinked working directory', () => {
    const { root, opts } = world();
    const link = path.join(root, 'cwd-link');
    symlinkSync(opts.cwd, link);
    expect(loadPolicy({ ...opts, cwd: link, inline: { filesystem: { allowWrite: ['.'] } } }).policy.filesystem.allowWrite).toEqual([opts.cwd]);
  });

  it('refuses a working directory that does not exist', () => {
    const { root, opts } = world();
    expect(loadError({ ...opts, cwd: path.join(root, 'gone') }).code).toBe('PATH_INVALID');
  });

  it('reads unix socket paths the same way', () => {
    const { opts } = world();
    mkdirSync(path.join(opts.home, '.run'));
    writeFileSync(path.join(opts.home, '.run/s'), '');
    expect(loadPolicy({ ...opts, inline: { network: { allowUnixSockets: ['~/.run/s'] } } }).policy.network.allowUnixSockets).toEqual([path.join(opts.home, '.run/s')]);
  });
});

describe('loadPolicy: an allowWrite entry that leads through a symlink', () => {
  const linked = () => {
    const { root, opts } = world({ 'elsewhere/sub/': '' });
    symlinkSync(path.join(root, 'elsewhere'), path.join(opts.cwd, 'out'));
    return { elsewhere: path.join(root, 'elsewhere'), opts };
  };

  it('is refused, naming the entry as written and its real path', () => {
    const { elsewhere, opts } = linked();
    const error = loadError({ ...opts, inline: { filesystem: { allowWrite: ['out'] } } });
    expect(error.code).toBe('PATH_SYMLINK');
    expect(error.message).toBe(`filesystem.allowWrite[0]: "out" is a symlink to ${elsewhere}; name the real path "${elsewhere}" in allowWrite to allow it`);
  });

  it('is refused when the symlink is a parent on the way, for paths, new paths and globs', () => {
    const { elsewhere, opts } = linked();
    for (const entry of ['out/sub', 'out/new', 'out/**', '~/../work/project/out/sub']) {
      const error = loadError({ ...opts, inline: { filesystem: { allowWrite: ['.', entry] } } });
      expect(error.message, entry).toMatch(new RegExp(`^filesystem\\.allowWrite\\[1\\]: ".+" (is a|leads through a) symlink to ${elsewhere}`));
    }
  });

  it('is allowed when the settings also name the real path, or a directory holding it', () => {
    const { elsewhere, opts } = linked();
    expect(loadPolicy({ ...opts, inline: { filesystem: { allowWrite: ['out', elsewhere] } } }).policy.filesystem.allowWrite).toEqual([elsewhere, elsewhere]);
    expect(loadPolicy({ ...opts, inline: { filesystem: { allowWrite: ['out/sub', path.dirname(elsewhere)] } } }).policy.filesystem.allowWrite[0]).toBe(`${elsewhere}/sub`);
  });

  it('does not count the working directory\'s or home\'s own symlinks', () => {
    const { root, opts } = world({ 'real-home/.npm/': '' });
    const home = path.join(root, 'home-link');
    symlinkSync(path.join(root, 'real-home'), home);
    const cwd = path.join(root, 'cwd-link');
    symlinkSync(opts.cwd, cwd);
    const { policy } = loadPolicy({ ...opts, cwd, home, inline: { filesystem: { allowWrite: ['.', 'build', '~/.npm', '~/.cache'] } } });
    expect(policy.filesystem.allowWrite).toEqual([opts.cwd, `${opts.cwd}/build`, path.join(root, 'real-home/.npm'), path.join(root, 'real-home/.cache')]);
  });

  it('counts a symlink in an absolute entry', () => {
    const { root, opts } = world({ 'real/': '' });
    symlinkSync(path.join(root, 'real'), path.join(root, 'abs-link'));
    expect(loadError({ ...opts, inline: { filesystem: { allowWrite: [path.join(root, 'abs-link')] } } }).code).toBe('PATH_SYMLINK');
  });
});
