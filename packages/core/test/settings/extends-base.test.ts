import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FenceError } from '../../src/errors.js';
import { loadPolicy, type LoadOptions } from '../../src/settings/load.js';
import { removeTrees, tempTree } from '../temp-tree.js';

afterEach(removeTrees);

function world(files: Record<string, string>): { root: string; opts: LoadOptions } {
  const root = tempTree({ 'home/': '', 'work/project/': '', ...files });
  const home = path.join(root, 'home');
  return { root, opts: { cwd: path.join(root, 'work/project'), home, env: { XDG_CONFIG_HOME: path.join(home, 'xdg') } } };
}

const project = (settings: object): string => JSON.stringify({ extends: '@base', ...settings });

describe('"extends": "@base"', () => {
  it('layers the project file on the user\'s XDG settings: lists joined, booleans OR-ed, the project\'s scalars win', () => {
    const { root, opts } = world({
      'home/xdg/fence/fence.jsonc': '{ // mine\n "network": {"allowedDomains": ["base.example.com"], "httpProxyPort": 3000, "allowLocalBinding": true}, "filesystem": {"allowWrite": ["/tmp/base"]} }',
      'work/project/fence.json': project({ network: { allowedDomains: ['repo.example.com'], httpProxyPort: 4000 } }),
    });
    const { policy, files, sources } = loadPolicy(opts);
    expect(policy.network.allowedDomains).toEqual(['base.example.com', 'repo.example.com']);
    expect(policy.network.httpProxyPort).toBe(4000);
    expect(policy.network.allowLocalBinding).toBe(true);
    expect(policy.filesystem.allowWrite).toContain('/tmp/base');
    expect(files).toEqual([`${root}/home/xdg/fence/fence.jsonc`, `${root}/work/project/fence.json`]);
    expect(sources).toContainEqual({ field: 'network.allowedDomains[0]', from: `${root}/home/xdg/fence/fence.jsonc` });
    expect(sources).toContainEqual({ field: 'network.httpProxyPort', from: `${root}/work/project/fence.json` });
  });

  it('uses ~/.fence.json when there is no XDG settings file', () => {
    const { root, opts } = world({
      'home/.fence.json': '{"network": {"allowedDomains": ["legacy.example.com"]}}',
      'work/project/fence.json': project({}),
    });
    const { policy, files } = loadPolicy(opts);
    expect(policy.network.allowedDomains).toEqual(['legacy.example.com']);
    expect(files[0]).toBe(`${root}/home/.fence.json`);
  });

  it('follows what the user\'s file extends in turn (a template)', () => {
    const { opts } = world({
      'home/xdg/fence/fence.json': '{"extends": "npm-install", "network": {"allowedDomains": ["base.example.com"]}}',
      'work/project/fence.json': project({ network: { allowedDomains: ['repo.example.com'] } }),
    });
    const domains = loadPolicy({ ...opts, env: { ...opts.env, npm_config_registry: undefined } }).policy.network.allowedDomains;
    expect(domains).toEqual(expect.arrayContaining(['registry.npmjs.org', 'base.example.com', 'repo.example.com']));
  });

  it('is the built-in default when the user has no settings file', () => {
    const { opts } = world({ 'work/project/fence.json': project({ network: { allowedDomains: ['repo.example.com'] } }) });
    const { policy, files } = loadPolicy(opts);
    expect(policy.network.allowedDomains).toEqual(['repo.example.com']);
    expect(policy.filesystem.allowWrite).toEqual([]);
    expect(files).toHaveLength(1);
  });

  it('refuses a user file that extends "@base" itself, naming the cycle', () => {
    const { root, opts } = world({
      'home/xdg/fence/fence.json': '{"extends": "@base"}',
      'work/project/fence.json': project({}),
    });
    let error: unknown;
    try {
      loadPolicy(opts);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FenceError);
    expect((error as FenceError).code).toBe('EXTENDS_CYCLE');
    expect((error as FenceError).message).toContain(`${root}/home/xdg/fence/fence.json -> ${root}/home/xdg/fence/fence.json`);
  });

  it('works from inline settings and from --template', () => {
    const { opts } = world({ 'home/xdg/fence/fence.json': '{"network": {"allowedDomains": ["base.example.com"]}}' });
    expect(loadPolicy({ ...opts, inline: { extends: '@base' } }).policy.network.allowedDomains).toEqual(['base.example.com']);
  });
});
