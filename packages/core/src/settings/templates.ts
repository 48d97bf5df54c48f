/**
 * Built-in templates: settings to start from with `--template <name>` or `"extends": "<name>"`.
 * Plain data, validated by the same schema as a settings file (test/templates.test.ts).
 */
import type { RegistryKind } from './registries.js';
import type { SettingsInput } from './schema.js';

export interface Template {
  /** One line, for `--help` and docs/settings.md. */
  readonly description: string;
  readonly settings: SettingsInput;
  /** The template also allows the hosts of this tool's configured registries (see registries.ts). */
  readonly registries?: RegistryKind;
  /** How to give the command a credential this template may need (credential stores are hidden, SPEC §2). */
  readonly credentials?: string;
  /**
   * `~/…` paths added to filesystem.allowWrite only where they exist: the state and caches of
   * tools that not every machine has (a missing allowWrite path would warn on every run).
   */
  readonly writableWhenPresent?: readonly string[];
}

export type TemplateName =
  | 'default-deny'
  | 'workspace-write'
  | 'npm-install'
  | 'pip-install'
  | 'git-readonly'
  | 'local-dev-server'
  | 'agent-api-only'
  | 'code'
  | 'code-relaxed';

/** What coding agents reach: their model APIs, the package registries and the git hosts (docs/agents.md). */
const CODE_DOMAINS = [
  // Model APIs (and the sign-in hosts the agents' own logins use)
  'api.anthropic.com',
  '*.anthropic.com',
  'claude.ai',
  'api.openai.com',
  'auth.openai.com',
  'chatgpt.com',
  'api.githubcopilot.com',
  'generativelanguage.googleapis.com',
  'api.mistral.ai',
  'api.cohere.ai',
  'api.together.xyz',
  'openrouter.ai',
  '*.cursor.sh',
  'models.dev',
  // Git hosts
  'github.com',
  'api.github.com',
  'codeload.github.com',
  'raw.githubusercontent.com',
  'objects.githubusercontent.com',
  'gitlab.com',
  'bitbucket.org',
  // Package registries
  'registry.npmjs.org',
  '*.npmjs.org',
  'registry.yarnpkg.com',
  'pypi.org',
  'files.pythonhosted.org',
  'crates.io',
  'index.crates.io',
  'static.crates.io',
  'proxy.golang.org',
  'sum.golang.org',
];

export const templates: Readonly<Record<TemplateName, Template>> = {
  'default-deny': {
    description: 'No network, no writes outside the private /tmp (the same as no settings at all).',
    settings: {},
  },
  'workspace-write': {
    description: 'No network; the command may write the working directory.',
    settings: { filesystem: { allowWrite: ['.'] } },
  },
  'npm-install': {
    description: 'npm/yarn installs: the npm, yarn and configured registries; writes to ., ~/.npm and ~/.cache.',
    credentials: 'A private registry\'s token in ~/.npmrc: `"filesystem": { "allowRead": ["~/.npmrc"] }` (or `"environment": { "allow": ["NPM_TOKEN"] }` for a project .npmrc that reads `${NPM_TOKEN}`).',
    registries: 'npm',
    settings: {
      network: { allowedDomains: ['registry.npmjs.org', '*.npmjs.org', 'registry.yarnpkg.com'] },
      filesystem: { allowWrite: ['.', '~/.npm', '~/.cache'] },
    },
  },
  'pip-install': {
    description: 'pip installs: PyPI and the configured indexes; writes to the working directory and ~/.cache/pip.',
    credentials: 'A private index\'s login in ~/.netrc: `"filesystem": { "allowRead": ["~/.netrc"] }`.',
    registries: 'pip',
    settings: {
      network: { allowedDomains: ['pypi.org', 'files.pythonhosted.org'] },
      filesystem: { allowWrite: ['.', '~/.cache/pip'] },
    },
  },
  'git-readonly': {
    description: 'Fetch from GitHub and GitLab; no writes outside /tmp and no git push.',
    credentials: 'Private repositories over HTTPS: `"filesystem": { "allowRead": ["~/.git-credentials"] }` (or `"environment": { "allow": ["GITHUB_TOKEN"] }` for `gh`).',
    settings: {
      network: { allowedDomains: ['github.com', '*.github.com', 'gitlab.com', '*.githubusercontent.com'] },
      command: { deny: ['git push', 'git send-email'] },
    },
  },
  'local-dev-server': {
    description: 'No network; writes to the working directory; may listen on the sandbox loopback (use -p to expose ports).',
    settings: { network: { allowLocalBinding: true }, filesystem: { allowWrite: ['.'] } },
  },
  'agent-api-only': {
    description: 'AI coding agents: only the Anthropic, OpenAI and Gemini APIs (their API keys kept); writes to the working directory.',
    credentials: 'Keeps ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY and GOOGLE_API_KEY; every other credential variable is removed.',
    settings: {
      network: { allowedDomains: ['api.anthropic.com', 'api.openai.com', 'generativelanguage.googleapis.com'] },
      filesystem: { allowWrite: ['.'] },
      // The agent needs its own API key; every other credential variable is still removed.
      environment: { allow: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY'] },
    },
  },
  code: {
    description: 'Coding agents: model APIs, registries, git hosts; writes the workspace; secrets hidden; git push, publish denied.',
    credentials: 'Keeps the model API keys (ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY, OPENROUTER_API_KEY, MISTRAL_API_KEY); every other credential variable and store stays hidden.',
    registries: 'npm',
    // The package caches, and the state each agent keeps in $HOME.
    writableWhenPresent: [
      '~/.cache',
      '~/.npm',
      '~/.bun',
      '~/.cargo/registry',
      '~/.cargo/git',
      '~/.claude',
      '~/.claude.json',
      '~/.codex',
      '~/.cursor',
      '~/.config/opencode',
      '~/.local/share/opencode',
      '~/.local/state/opencode',
    ],
    settings: {
      network: {
        allowedDomains: CODE_DOMAINS,
        // Cloud metadata answers credentials; the address guard refuses these addresses too.
        deniedDomains: ['169.254.169.254', 'metadata.google.internal', 'instance-data.ec2.internal'],
        // Test servers and dev servers the agent starts listen inside the sandbox.
        allowLocalBinding: true,
      },
      filesystem: {
        allowWrite: ['.'],
        // Secrets in the workspace stay as they are (the home's credential stores are hidden by default).
        denyWrite: [
          '**/.env',
          '**/.env.*',
          '**/*.pem',
          '**/*.key',
          // On PATH (bun's installer puts it first): a program planted there runs outside next time.
          '~/.bun/bin',
          // The agents' own permissions and hooks: a command must not widen them or remove Fence's hook.
          '~/.claude/settings.json',
          '.claude/settings.json',
          '.claude/settings.local.json',
          '~/.codex/config.toml',
          '~/.codex/hooks.json',
          '.codex/config.toml',
          '.codex/hooks.json',
          '~/.cursor/hooks.json',
          '.cursor/hooks.json',
          // MCP servers are programs the agent starts outside the sandbox.
          '~/.cursor/mcp.json',
          '.cursor/mcp.json',
          '~/.config/opencode/opencode.json',
          '~/.config/opencode/opencode.jsonc',
          '~/.config/opencode/plugins',
          'opencode.json',
          'opencode.jsonc',
          '.opencode/opencode.json',
          '.opencode/opencode.jsonc',
          '.opencode/plugins',
        ],
      },
      command: {
        deny: ['git push', 'git reset --hard', 'git clean', 'git rebase', 'npm publish', 'pnpm publish', 'yarn publish', 'yarn npm publish', 'cargo publish', 'twine upload', 'gem push'],
      },
      environment: { allow: ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY', 'OPENROUTER_API_KEY', 'MISTRAL_API_KEY'] },
    },
  },
  'code-relaxed': {
    description: 'The code rules, named for agents that ignore HTTP_PROXY (the Go Fence\'s name; see docs/agents.md).',
    settings: { extends: 'code' },
  },
};

export const templateNames = Object.keys(templates) as TemplateName[];

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(templates, name);
