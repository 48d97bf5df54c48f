import { describe, expect, it } from 'vitest';
import { commandEnvironment, variableRemover } from '../src/environment.js';
import { DEFAULT_DENIED_VARIABLES } from '../src/settings/secrets.js';

describe('variableRemover', () => {
  const defaults = variableRemover({ deny: DEFAULT_DENIED_VARIABLES, allow: [] });

  it.each(['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ACCESS_KEY_ID', 'GITHUB_TOKEN', 'GH_TOKEN', 'NPM_TOKEN', 'NODE_AUTH_TOKEN', 'OPENAI_API_KEY', 'VAULT_TOKEN', 'SSH_AUTH_SOCK', 'npm_config_//registry.npmjs.org/:_authToken', 'github_token'])(
    'removes the credential variable %s by default',
    (name) => expect(defaults(name)).toBe(true),
  );

  it.each(['PATH', 'HOME', 'USER', 'LANG', 'TERM', 'SHELL', 'HTTP_PROXY', 'TMPDIR', 'NODE_OPTIONS', 'AWS_REGION', 'AWS_CA_BUNDLE', 'SSH_CONNECTION', 'npm_config_registry'])(
    'keeps %s, which tools need',
    (name) => expect(defaults(name)).toBe(false),
  );

  it('keeps a variable an allow entry names, even when a glob denies it', () => {
    const remove = variableRemover({ deny: ['AWS_*'], allow: ['AWS_PROFILE', 'aws_region'] });
    expect([remove('AWS_SECRET_ACCESS_KEY'), remove('AWS_PROFILE'), remove('AWS_REGION')]).toEqual([true, false, false]);
  });

  it('takes the glob characters of regular expressions literally', () => {
    expect(variableRemover({ deny: ['A.B'], allow: [] })('AXB')).toBe(false);
  });
});

describe('commandEnvironment', () => {
  it('removes denied variables but never those the plugins set', () => {
    const env = commandEnvironment({ GITHUB_TOKEN: 't', PATH: '/bin', HTTP_PROXY: 'caller' }, { HTTP_PROXY: 'fence', X_TOKEN: 'fence' }, { deny: ['*_TOKEN', 'HTTP_PROXY'], allow: [] });
    expect(env).toEqual({ PATH: '/bin', HTTP_PROXY: 'fence', X_TOKEN: 'fence', FENCE_SANDBOX: '1' });
  });
});
