import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicy } from '../../src/settings/load.js';
import { SettingsSchema } from '../../src/settings/schema.js';
import { templateNames, templates } from '../../src/settings/templates.js';

describe('templates', () => {
  it('holds the built-in templates of SPEC §2, the coding agents\' ones included', () => {
    expect(templateNames).toEqual([
      'default-deny',
      'workspace-write',
      'npm-install',
      'pip-install',
      'git-readonly',
      'local-dev-server',
      'agent-api-only',
      'code',
      'code-relaxed',
    ]);
  });

  it('code allows the model APIs, registries and git hosts, writes the workspace and the agent state that exists, denies git push; code-relaxed is the same policy', () => {
    const home = realpathSync(mkdtempSync(join(tmpdir(), 'fence-code-home-')));
    mkdirSync(join(home, '.claude'));
    mkdirSync(join(home, '.cache'));
    const load = (template: string) => loadPolicy({ cwd: '/', home, env: {}, template, inline: {} }).policy;
    const code = load('code');
    // Only what exists: a missing allowWrite path would warn on every run.
    expect(code.filesystem.allowWrite).toEqual(['/', `${home}/.cache`, `${home}/.claude`]);
    expect(code.network.allowedDomains).toEqual(expect.arrayContaining(['api.anthropic.com', 'api.openai.com', 'registry.npmjs.org', 'pypi.org', 'github.com']));
    expect(code.command.deny).toEqual(expect.arrayContaining(['git push', 'npm publish']));
    expect(code.command.useDefaults).toBe(true);
    expect(code.environment.allow).toContain('ANTHROPIC_API_KEY');
    expect(load('code-relaxed')).toEqual(code);
    rmSync(home, { recursive: true });
  });

  it.each(templateNames)('%s is valid settings with a one-line description', (name) => {
    expect(SettingsSchema.safeParse(templates[name].settings).success).toBe(true);
    expect(templates[name].description).toMatch(/^[^\n]{10,120}$/);
  });

  it('npm-install allows the registries and writes to the npm caches', () => {
    const { policy } = loadPolicy({ cwd: '/', home: '/nonexistent-home', env: {}, template: 'npm-install', inline: {} });
    expect(policy.network.allowedDomains).toEqual(['registry.npmjs.org', '*.npmjs.org', 'registry.yarnpkg.com']);
    expect(policy.filesystem.allowWrite).toEqual(['/', '/nonexistent-home/.npm', '/nonexistent-home/.cache']);
  });

  it('git-readonly denies git push and allows no writes', () => {
    const { policy } = loadPolicy({ cwd: '/', home: '/h', env: {}, template: 'git-readonly', inline: {} });
    expect(policy.command.deny).toContain('git push');
    expect(policy.filesystem.allowWrite).toEqual([]);
  });
});
