import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, writeSettings, USERS, workspace, type Workspace } from '../src/fence.js';

/** Writes the user's own settings file, ~/.config/fence/fence.json, owned by the workspace's user. */
function writeUserSettings(ws: Workspace, settings: object): string {
  const dir = join(ws.home, '.config', 'fence');
  mkdirSync(dir, { recursive: true });
  for (const d of [join(ws.home, '.config'), dir]) own(ws, d);
  const file = join(dir, 'fence.json');
  writeFileSync(file, JSON.stringify(settings));
  own(ws, file);
  return file;
}

describe.each(USERS)('"extends": "@base" and fence config show (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it("a project file layers on the user's own settings: both writable paths hold in the sandbox", async () => {
    ws = workspace(user);
    for (const d of ['from-base', 'from-project']) {
      mkdirSync(join(ws.dir, d));
      own(ws, join(ws.dir, d));
    }
    const base = writeUserSettings(ws, { filesystem: { allowWrite: [join(ws.dir, 'from-base')] }, network: { allowedDomains: ['base.example'] } });
    const project = writeSettings(ws, { extends: '@base', filesystem: { allowWrite: ['./from-project'] }, network: { allowedDomains: ['project.example'] } });
    const run = await fence(ws, ['-c', 'touch from-base/a && touch from-project/b && echo both; touch elsewhere 2>/dev/null || echo not-elsewhere']);
    expect(run.stdout).toBe('both\nnot-elsewhere\n');
    // Flags after the subcommand count as before it.
    const show = await fence(ws, ['config', 'show', '-s', project]);
    const { policy, files } = JSON.parse(show.stdout) as { policy: { network: { allowedDomains: string[] } }; files: string[] };
    expect(files).toEqual([base, project]);
    expect(policy.network.allowedDomains).toEqual(['base.example', 'project.example']);
  });

  it('without a settings file of the user\'s, "@base" is the built-in default', async () => {
    ws = workspace(user);
    writeSettings(ws, { extends: '@base', network: { allowedDomains: ['project.example'] } });
    const show = await fence(ws, ['config', 'show']);
    expect(show.status).toBe(0);
    expect((JSON.parse(show.stdout) as { files: string[] }).files).toEqual([join(ws.dir, 'fence.json')]);
  });

  it('fence config show --template <name> shows the template, and names an unknown one', async () => {
    ws = workspace(user);
    const show = await fence(ws, ['config', 'show', '--template', 'npm-install']);
    const { policy } = JSON.parse(show.stdout) as { policy: { network: { allowedDomains: string[] } } };
    expect(policy.network.allowedDomains).toContain('registry.npmjs.org');
    const unknown = await fence(ws, ['config', 'show', '-t', 'no-such-template']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('fence: unknown template "no-such-template"; choose one of:');
  });
});
