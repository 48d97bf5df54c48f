import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { templateNames } from '@fence/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, NOBODY, USERS, workspace, writeSettings, type User, type Workspace } from '../src/fence.js';

const KEY = '-----BEGIN OPENSSH PRIVATE KEY----- fence-e2e-fake-key';

/**
 * A HOME outside /tmp (the sandbox's /tmp is private, so a HOME there would be hidden anyway and
 * prove nothing), owned by the user, with a fake SSH key and AWS credentials in it.
 */
function homeWithKeys(user: User): { home: string; cleanup: () => void } {
  const root = mkdtempSync('/var/tmp/fence-e2e-secrets-');
  chmodSync(root, 0o755);
  const home = join(root, 'home');
  for (const d of [home, `${home}/.ssh`, `${home}/.aws`]) mkdirSync(d);
  writeFileSync(`${home}/.ssh/id_rsa`, `${KEY}\n`, { mode: 0o600 });
  writeFileSync(`${home}/.aws/credentials`, '[default]\naws_secret_access_key = fence-e2e-aws\n');
  if (user === 'nobody') for (const p of [home, `${home}/.ssh`, `${home}/.ssh/id_rsa`, `${home}/.aws`, `${home}/.aws/credentials`]) chownSync(p, NOBODY, NOBODY);
  return { home, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

describe.each(USERS)('secrets stay home (as %s)', (user) => {
  let ws: Workspace;
  let keys: { home: string; cleanup: () => void };
  afterEach(() => {
    ws.cleanup();
    keys.cleanup();
  });
  const setup = (): Record<string, string> => {
    ws = workspace(user);
    keys = homeWithKeys(user);
    return { HOME: keys.home };
  };

  it.each(templateNames)('keeps ~/.ssh/id_rsa and ~/.aws/credentials unreadable under the %s template', async (template) => {
    const env = setup();
    const r = await fence(ws, ['-t', template, '--', 'cat', `${keys.home}/.ssh/id_rsa`, `${keys.home}/.aws/credentials`], { env });
    expect(r.status).not.toBe(0);
    expect(r.stdout).not.toContain('fence-e2e');
  });

  it('reads a credential store that filesystem.allowRead names', async () => {
    const env = setup();
    writeSettings(ws, { filesystem: { allowRead: ['~/.ssh'] } });
    const r = await fence(ws, ['--', 'cat', `${keys.home}/.ssh/id_rsa`], { env });
    expect(r.stdout).toBe(`${KEY}\n`);
    expect(r.status).toBe(0);
    // The other stores stay hidden.
    expect((await fence(ws, ['--', 'cat', `${keys.home}/.aws/credentials`], { env })).status).not.toBe(0);
  });

  it('removes credential variables from the environment, except those environment.allow names', async () => {
    const env = { ...setup(), AWS_SECRET_ACCESS_KEY: 'fence-e2e-aws', GITHUB_TOKEN: 'fence-e2e-gh', SSH_AUTH_SOCK: '/run/fence-e2e-agent', OPENAI_API_KEY: 'fence-e2e-openai', MY_VAR: 'kept' };
    writeSettings(ws, { environment: { allow: ['GITHUB_TOKEN'], deny: ['MY_*'] } });
    const r = await fence(ws, ['--', 'env'], { env });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('GITHUB_TOKEN=fence-e2e-gh\n');
    for (const name of ['AWS_SECRET_ACCESS_KEY', 'SSH_AUTH_SOCK', 'OPENAI_API_KEY', 'MY_VAR']) expect(r.stdout).not.toContain(`${name}=`);
    expect(r.stdout).toContain(`HOME=${keys.home}\n`);
  });

  it('keeps every credential variable with environment.useDefaults false', async () => {
    const env = { ...setup(), AWS_SECRET_ACCESS_KEY: 'fence-e2e-aws', SSH_AUTH_SOCK: '/run/fence-e2e-agent' };
    writeSettings(ws, { environment: { useDefaults: false } });
    const r = await fence(ws, ['--', 'env'], { env });
    expect(r.stdout).toContain('AWS_SECRET_ACCESS_KEY=fence-e2e-aws\n');
    expect(r.stdout).toContain('SSH_AUTH_SOCK=/run/fence-e2e-agent\n');
  });

  it('lists the removed variables and the hidden stores in fence config show, with where they came from', async () => {
    const env = setup();
    writeSettings(ws, { environment: { deny: ['MY_*'] } });
    const r = await fence(ws, ['config', 'show'], { env });
    expect(r.status).toBe(0);
    const { policy, sources } = JSON.parse(r.stdout) as { policy: { filesystem: { denyRead: string[] }; environment: { deny: string[] } }; sources: { field: string; from: string }[] };
    const from = (field: string, list: string[], value: string) => sources.find((s) => s.field === `${field}[${list.indexOf(value)}]`)?.from;
    expect(from('filesystem.denyRead', policy.filesystem.denyRead, `${keys.home}/.ssh`)).toBe('defaults:credential-stores');
    expect(from('environment.deny', policy.environment.deny, 'SSH_AUTH_SOCK')).toBe('defaults:credential-variables');
    expect(from('environment.deny', policy.environment.deny, 'MY_*')).toBe(join(ws.dir, 'fence.json'));
  });
});
