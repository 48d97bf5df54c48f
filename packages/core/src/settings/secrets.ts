/**
 * Secrets stay home (SPEC §2): the built-in lists of credential variables and credential stores,
 * and the settings layer that applies them. The layer goes first in the `extends` merge, so the
 * policy lists them like any other entry and `fence config show` names where each came from
 * (`defaults:credential-variables`, `defaults:credential-stores`). Pure.
 */
import type { SettingsLayer } from './merge.js';
import type { SettingsInput } from './schema.js';

/**
 * Removed from the command's environment while `environment.useDefaults` is true, unless
 * `environment.allow` names them. Names or globs (`*`), compared without regard to case.
 * Variables that tools need to work (PATH, HOME, proxies, locale, terminal) match none of them.
 */
export const DEFAULT_DENIED_VARIABLES: readonly string[] = [
  // Cloud providers.
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SECURITY_TOKEN',
  'AZURE_CLIENT_SECRET',
  'AZURE_CLIENT_CERTIFICATE_PASSWORD',
  'GOOGLE_APPLICATION_CREDENTIALS',
  // Forges and registries.
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'GITLAB_TOKEN',
  'NPM_TOKEN',
  'NODE_AUTH_TOKEN',
  'TWINE_PASSWORD',
  'DOCKER_AUTH_CONFIG',
  // npm reads `npm_config_//host/:_authToken` and `npm_config__auth` from the environment.
  'NPM_CONFIG_*AUTH*',
  // Agents that hold the user's keys or sessions.
  'SSH_AUTH_SOCK',
  'SSH_AGENT_PID',
  'GPG_AGENT_INFO',
  'KRB5CCNAME',
  // Databases.
  'PGPASSWORD',
  'MYSQL_PWD',
  // The common suffixes of every other service's keys (VAULT_TOKEN, OPENAI_API_KEY, …).
  '*_TOKEN',
  '*_API_KEY',
  '*_SECRET',
  '*_SECRET_KEY',
  '*_ACCESS_KEY',
  '*_PRIVATE_KEY',
  '*_PASSWORD',
];

/**
 * Hidden from the command (`filesystem.denyRead`) unless `filesystem.allowRead` names them or a
 * directory holding them: where tools keep the user's keys and tokens.
 */
export const DEFAULT_CREDENTIAL_STORES: readonly string[] = [
  '~/.ssh',
  '~/.gnupg',
  '~/.aws',
  '~/.azure',
  '~/.config/gcloud',
  '~/.kube/config',
  '~/.docker/config.json',
  '~/.config/gh',
  '~/.config/hub',
  '~/.netrc',
  '~/.git-credentials',
  '~/.config/git/credentials',
  // Registry tokens: `filesystem.allowRead` brings one back for a private registry.
  '~/.npmrc',
  '~/.yarnrc.yml',
  '~/.pypirc',
  '~/.cargo/credentials.toml',
  '~/.gem/credentials',
  '~/.password-store',
  '~/.local/share/keyrings',
];

export const VARIABLES_SOURCE = 'defaults:credential-variables';
export const STORES_SOURCE = 'defaults:credential-stores';

/** What decides the defaults, read from the settings as merged (before defaults). */
export interface SecretsChoice {
  readonly useDefaults: boolean;
  /** Whether the default store `entry` is named by `filesystem.allowRead`. */
  readonly allowsRead: (entry: string) => boolean;
}

/** The layers that put the built-in lists first in the merge (none when nothing is left). */
export function secretsLayers(choice: SecretsChoice): SettingsLayer[] {
  const stores = DEFAULT_CREDENTIAL_STORES.filter((s) => !choice.allowsRead(s));
  const layers: SettingsLayer[] = [];
  if (choice.useDefaults) layers.push({ from: VARIABLES_SOURCE, settings: { environment: { deny: [...DEFAULT_DENIED_VARIABLES] } } satisfies SettingsInput });
  if (stores.length > 0) layers.push({ from: STORES_SOURCE, settings: { filesystem: { denyRead: stores } } });
  return layers;
}
