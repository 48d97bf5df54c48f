import { describe, expect, it } from 'vitest';
import { SshSchema, type Policy } from '@fence/core';
import { checkCommand, findCommandDenial } from '../src/command-policy.js';
import { hostMatches, parseSsh } from '../src/ssh-policy.js';

type Ssh = Parameters<typeof SshSchema.parse>[0];
const policy = (ssh: Ssh, deny: string[] = [], useDefaults = true): Pick<Policy, 'command' | 'ssh'> => ({
  command: { deny, allow: [], useDefaults, runtimeExecPolicy: 'path', acceptSharedBinaryCannotRuntimeDeny: [] },
  ssh: SshSchema.parse(ssh),
});
const field = (argv: string[], p: Pick<Policy, 'command' | 'ssh'>) => findCommandDenial(argv, p)?.field;

describe('parseSsh', () => {
  it.each([
    [['host'], ['host'], undefined],
    [['user@host', 'ls', '-la'], ['host'], 'ls -la'],
    [['-p', '22', '-l', 'me', 'host', 'uptime'], ['host'], 'uptime'],
    [['-p22', '-vt', 'host'], ['host'], undefined],
    [['-vp', '2222', 'host', 'id'], ['host'], 'id'],
    [['-o', 'StrictHostKeyChecking=no', '-i', 'key', 'host', 'rm', 'x'], ['host'], 'rm x'],
    [['-oUser=root', '--', 'host', 'ls'], ['host'], 'ls'],
    [['ssh://me@host:2222', 'ls'], ['host'], 'ls'],
    [['me@[::1]'], ['::1'], undefined],
    [['-o', 'HostName=real.example.com', 'alias'], ['alias', 'real.example.com'], undefined],
    [['-J', 'jump@bastion:22,other', 'host'], ['host', 'bastion', 'other'], undefined],
    [['-o', 'RemoteCommand=reboot', 'host'], ['host'], 'reboot'],
    [['-N', '-L', '8080:localhost:80', 'host'], ['host'], undefined],
    [['host', '-p', '22', '-o', 'HostName=h2', 'ls', '-l'], ['host', 'h2'], 'ls -l'],
    [['host', '--', 'rm', '-rf', 'x'], ['host'], 'rm -rf x'],
    [['--', 'host', '-p', '22'], ['host'], '-p 22'],
  ])('parses ssh %j', (args, hosts, remote) => {
    expect(parseSsh(args)).toEqual({ hosts, remote });
  });

  it('connects nowhere without a destination', () => {
    expect(parseSsh(['-V'])).toBeUndefined();
    expect(parseSsh(['-p', '22'])).toBeUndefined();
  });
});

describe('hostMatches', () => {
  it('takes * anywhere and ignores case', () => {
    expect(hostMatches('*.example.com', 'a.b.EXAMPLE.com')).toBe(true);
    expect(hostMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostMatches('prod-*', 'prod-db1')).toBe(true);
    expect(hostMatches('prod-*.us-east.*', 'prod-1.us-east.aws')).toBe(true);
    expect(hostMatches('prod-*.us-east.*', 'prod-1.eu-west.aws')).toBe(false);
    expect(hostMatches('a.b', 'aXb')).toBe(false);
    expect(hostMatches('*', 'anything')).toBe(true);
  });
});

describe('the SSH policy, rule by rule in its order', () => {
  const base = { allowedHosts: ['*.example.com'], deniedHosts: ['prod.example.com'], allowedCommands: ['ls', 'git status'], deniedCommands: ['ls /secret'] };

  it('1. refuses a denied host, even an allowed one, even interactive', () => {
    expect(field(['ssh', 'prod.example.com'], policy(base))).toBe('ssh.deniedHosts');
    expect(field(['ssh', '-l', 'me', 'PROD.example.com', 'ls'], policy(base))).toBe('ssh.deniedHosts');
  });

  it('2. refuses a host that no allowed pattern matches', () => {
    expect(field(['ssh', 'evil.org'], policy(base))).toBe('ssh.allowedHosts');
    expect(field(['ssh', '-o', 'HostName=evil.org', 'dev.example.com'], policy(base))).toBe('ssh.allowedHosts');
    expect(field(['ssh', '-J', 'evil.org', 'dev.example.com'], policy(base))).toBe('ssh.allowedHosts');
  });

  it('3. allows an interactive session on an allowed host', () => {
    expect(field(['ssh', '-p', '22', 'me@dev.example.com'], policy(base))).toBeUndefined();
  });

  it('4. refuses a denied remote command, before the allowed ones', () => {
    expect(field(['ssh', 'dev.example.com', 'ls', '/secret', '-la'], policy(base))).toBe('ssh.deniedCommands');
    expect(field(['ssh', 'dev.example.com', 'ls /tmp; ls /secret'], policy({ ...base, allowAllCommands: true }))).toBe('ssh.deniedCommands');
  });

  it('5. refuses what command.deny and the built-in rules refuse, with inheritDeny', () => {
    const p = { ...base, allowAllCommands: true, inheritDeny: true };
    expect(field(['ssh', 'dev.example.com', 'git', 'push'], policy(p, ['git push']))).toBe('ssh.inheritDeny');
    expect(field(['ssh', 'dev.example.com', 'sudo reboot'], policy(p))).toBe('ssh.inheritDeny');
    expect(field(['ssh', 'dev.example.com', 'git', 'push'], policy({ ...p, inheritDeny: false }, ['git push']))).toBeUndefined();
  });

  it('6. allows every other command with allowAllCommands', () => {
    expect(field(['ssh', 'dev.example.com', 'make', 'deploy'], policy({ ...base, allowAllCommands: true }))).toBeUndefined();
  });

  it('7. allows a command every part of which is an allowed prefix', () => {
    expect(field(['ssh', 'dev.example.com', 'ls', '-la'], policy(base))).toBeUndefined();
    expect(field(['ssh', 'dev.example.com', 'git status && ls'], policy(base))).toBeUndefined();
  });

  it('8. refuses any other remote command', () => {
    expect(field(['ssh', 'dev.example.com', 'rm', '-rf', 'x'], policy(base))).toBe('ssh.allowedCommands');
    expect(field(['ssh', 'dev.example.com', 'ls; rm -rf x'], policy(base))).toBe('ssh.allowedCommands');
    expect(field(['ssh', '-o', 'RemoteCommand=rm x', 'dev.example.com'], policy(base))).toBe('ssh.allowedCommands');
  });

  it('finds ssh behind wrappers and in shell strings, and names the rule in the refusal', () => {
    expect(() => checkCommand(['bash', '-c', 'cd x && env A=1 ssh evil.org id'], policy(base))).toThrowError(
      'command "ssh evil.org id" is denied by ssh.allowedHosts: host "evil.org" is not listed; add the host to ssh.allowedHosts',
    );
  });

  it('does nothing while the ssh section is empty', () => {
    expect(field(['ssh', 'anywhere.org', 'rm', '-rf', 'x'], policy({}))).toBeUndefined();
  });
});
