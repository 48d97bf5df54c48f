import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicy, type LoadOptions } from '../../src/settings/load.js';
import { DEFAULT_CREDENTIAL_STORES, DEFAULT_DENIED_VARIABLES } from '../../src/settings/secrets.js';
import { removeTrees, tempTree } from '../temp-tree.js';

afterEach(removeTrees);

function world(files: Record<string, string> = {}): { home: string; opts: LoadOptions } {
  const root = tempTree({ 'home/': '', 'work/': '', ...files });
  const home = path.join(root, 'home');
  return { home, opts: { cwd: path.join(root, 'work'), home, env: {} } };
}

const inHome = (home: string, entry: string): string => path.join(home, entry.slice(2));

describe('secrets stay home', () => {
  it('starts denyRead with the credential stores and says where they came from', () => {
    const { home, opts } = world();
    const { policy, sources } = loadPolicy({ ...opts, inline: { filesystem: { denyRead: ['/secret'] } } });
    expect(policy.filesystem.denyRead).toEqual([...DEFAULT_CREDENTIAL_STORES.map((e) => inHome(home, e)), '/secret']);
    expect(sources.find((s) => s.field === 'filesystem.denyRead[0]')?.from).toBe('defaults:credential-stores');
    expect(sources.find((s) => s.field === `filesystem.denyRead[${DEFAULT_CREDENTIAL_STORES.length}]`)?.from).toBe('inline');
  });

  it('leaves out a store that allowRead names, or a directory holding it, but not one an entry inside it names', () => {
    const { home, opts } = world({ 'f.json': '{"filesystem": {"allowRead": ["~/.npmrc", "~/.config", "~/.aws/config"]}}' });
    const { policy } = loadPolicy({ ...opts, settingsFile: '../f.json' });
    const denied = policy.filesystem.denyRead;
    expect(denied).not.toContain(inHome(home, '~/.npmrc'));
    expect(denied).not.toContain(inHome(home, '~/.config/gh'));
    expect(denied).toContain(inHome(home, '~/.aws'));
    expect(policy.filesystem.allowRead).toEqual([inHome(home, '~/.npmrc'), inHome(home, '~/.config'), inHome(home, '~/.aws/config')]);
  });

  it('puts the credential variables first in environment.deny unless useDefaults is false', () => {
    const { opts } = world();
    const on = loadPolicy({ ...opts, inline: { environment: { deny: ['MY_*'] } } });
    expect(on.policy.environment.deny).toEqual([...DEFAULT_DENIED_VARIABLES, 'MY_*']);
    expect(on.sources.find((s) => s.field === 'environment.deny[0]')?.from).toBe('defaults:credential-variables');
    const off = loadPolicy({ ...opts, inline: { environment: { deny: ['MY_*'], useDefaults: false } } });
    expect(off.policy.environment.deny).toEqual(['MY_*']);
  });

  it('names the field of a bad variable pattern', () => {
    const { opts } = world();
    expect(() => loadPolicy({ ...opts, inline: { environment: { allow: ['A=B'], deny: [''] } } })).toThrow(/environment\.deny\[0\]: empty variable name[\s\S]*environment\.allow\[0\]: a variable name cannot contain "="/);
  });
});
