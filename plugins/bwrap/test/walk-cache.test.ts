import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveFilesystem, SettingsSchema, type Logger, type Policy } from '@fence/core';
import { gatherPaths } from '../src/gather.js';
import { walkTrees } from '../src/glob-expand.js';
import { WalkCache } from '../src/walk-cache.js';
import { removeScratch, scratch } from './sandbox-helper.js';

/** A small project: two packages, one .env to find. */
function project(): string {
  const root = scratch('fence-walk-cache-');
  for (const d of ['a/lib', 'b/lib', 'node_modules/x']) {
    mkdirSync(`${root}/${d}`, { recursive: true });
    for (let i = 0; i < 5; i++) writeFileSync(`${root}/${d}/f${i}.js`, '');
  }
  writeFileSync(`${root}/a/lib/.env`, '');
  return root;
}

/** Walks `root` looking for .env files; returns the finds and how many entries were visited. */
function findEnv(root: string, cacheDir: string, racyNs = 10_000_000n, key = 'k') {
  const found: string[] = [];
  let visited = 0;
  walkTrees([root], (path, entry) => {
    visited++;
    if (entry.name !== '.env') return undefined;
    found.push(path.slice(root.length));
    return 'keep';
  }, { cache: new WalkCache(cacheDir, key, { racyNs }) });
  return { found: found.sort(), visited };
}

// The clock tick of directory timestamps is at most a few ms; wait past it and past racyNs.
const settle = () => sleep(50);

describe('WalkCache', () => {
  it('replays an unchanged tree without reading it: only directories and kept entries', async () => {
    const root = project();
    const cache = scratch('fence-walk-cache-dir-');
    await settle();
    const cold = findEnv(root, cache);
    const warm = findEnv(root, cache);
    expect(cold).toEqual({ found: ['/a/lib/.env'], visited: 22 });
    expect(warm).toEqual({ found: ['/a/lib/.env'], visited: 7 });
  });

  it('sees an entry created, renamed or removed at any depth after the cache was written', async () => {
    const root = project();
    const cache = scratch('fence-walk-cache-dir-');
    await settle();
    findEnv(root, cache);
    await settle();
    writeFileSync(`${root}/node_modules/x/.env`, '');
    renameSync(`${root}/a/lib/.env`, `${root}/a/lib/env.old`);
    mkdirSync(`${root}/b/lib/new`);
    writeFileSync(`${root}/b/lib/new/.env`, '');
    expect(findEnv(root, cache).found).toEqual(['/b/lib/new/.env', '/node_modules/x/.env']);
  });

  it('does not trust a directory changed within the racy window of its reading', () => {
    const root = project();
    const cache = scratch('fence-walk-cache-dir-');
    findEnv(root, cache, 2_000_000_000n);
    expect(findEnv(root, cache, 2_000_000_000n).visited).toBe(22);
  });

  it('does not reuse a listing made for another key', async () => {
    const root = project();
    const cache = scratch('fence-walk-cache-dir-');
    await settle();
    findEnv(root, cache);
    expect(findEnv(root, cache, undefined, 'other').visited).toBe(22);
  });
});

describe('gatherPaths with the walk cache', () => {
  it('finds the same protected names, git indirections and glob matches from the cache as from the tree', async () => {
    const cwd = project();
    for (const d of ['deep/x/.git/hooks', 'deep/x/.git/modules/sub/info', 'deep/x/.git/objects/ab', '.vscode']) mkdirSync(`${cwd}/${d}`, { recursive: true });
    // A git directory is one holding HEAD (the .git itself, and the submodule's under modules/).
    for (const f of ['deep/.bashrc', 'deep/x/.git/HEAD', 'deep/x/.git/config', 'deep/x/.git/commondir', 'deep/x/.git/modules/sub/HEAD', 'deep/x/.git/modules/sub/config', 'b/lib/key.pem']) writeFileSync(`${cwd}/${f}`, '');
    const { $schema: _s, extends: _e, ...rest } = SettingsSchema.parse({ filesystem: { allowWrite: ['.'], denyRead: ['**/*.pem'], denyWrite: ['**/.env'] } });
    const home = scratch('fence-walk-home-');
    const policy: Policy = { ...rest, paths: resolveFilesystem(rest.filesystem, cwd, home), cwd, home, trusted: [] };
    const logger: Logger = { debugEnabled: false, debug: () => undefined, warn: () => undefined, notice: () => undefined };
    const xdg = scratch('fence-walk-xdg-');
    process.env.XDG_CACHE_HOME = xdg;
    // Past the cache's 2 s racy window, so the first gather stores the whole tree.
    await sleep(2_100);
    // The exit sweep's `writable` is a function of each run: compare what it was built from.
    const gather = () => {
      const { sweep, ...rest } = gatherPaths(policy, logger, { netns: true, disableUserns: false });
      return { ...rest, sweep: { ...sweep, writable: undefined } };
    };
    const fromTree = gather();
    const fromCache = gather();
    expect(fromCache).toEqual(fromTree);
    // The second gather did replay: every directory of the tree is in the cache.
    const [file] = readdirSync(`${xdg}/fence/walk`);
    expect(Object.keys(JSON.parse(readFileSync(`${xdg}/fence/walk/${file}`, 'utf8')).dirs)).toContain(`${cwd}/deep/x/.git/modules/sub`);
    expect(fromTree.input.protect.existing).toEqual(expect.arrayContaining([`${cwd}/deep/.bashrc`, `${cwd}/deep/x/.git/commondir`, `${cwd}/deep/x/.git/modules/sub/config`, `${cwd}/.vscode`]));
    expect(fromTree.input.denyRead.map((e) => e.path)).toEqual([`${cwd}/b/lib/key.pem`]);
    // A command that rewrote the cache could hide a protected name from the next run.
    // Fence's whole cache directory (detection, walk, plan caches).
    expect(fromTree.input.denyWrite).toContain(`${xdg}/fence`);
    delete process.env.XDG_CACHE_HOME;
  }, 10_000);
});

afterAll(removeScratch);
