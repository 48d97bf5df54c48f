/**
 * Built-in templates: settings to start from with `--template <name>` or `"extends": "<name>"`.
 * Plain data, validated by the same schema as a settings file (test/templates.test.ts).
 */
import type { SettingsInput } from './schema.js';

export interface Template {
  /** One line, for `--help` and docs/settings.md. */
  readonly description: string;
  readonly settings: SettingsInput;
}

export const templates = {
  'default-deny': {
    description: 'No network, no writes outside the private /tmp (the same as no settings at all).',
    settings: {},
  },
  'workspace-write': {
    description: 'No network; the command may write the working directory.',
    settings: { filesystem: { allowWrite: ['.'] } },
  },
  'npm-install': {
    description: 'npm/yarn installs: the npm and yarn registries; writes to the working directory, ~/.npm and ~/.cache.',
    settings: {
      network: { allowedDomains: ['registry.npmjs.org', '*.npmjs.org', 'registry.yarnpkg.com'] },
      filesystem: { allowWrite: ['.', '~/.npm', '~/.cache'] },
    },
  },
  'pip-install': {
    description: 'pip installs: PyPI only; writes to the working directory and ~/.cache/pip.',
    settings: {
      network: { allowedDomains: ['pypi.org', 'files.pythonhosted.org'] },
      filesystem: { allowWrite: ['.', '~/.cache/pip'] },
    },
  },
  'git-readonly': {
    description: 'Fetch from GitHub and GitLab; no writes outside /tmp and no git push.',
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
    description: 'AI coding agents: only the Anthropic, OpenAI and Gemini APIs; writes to the working directory.',
    settings: {
      network: { allowedDomains: ['api.anthropic.com', 'api.openai.com', 'generativelanguage.googleapis.com'] },
      filesystem: { allowWrite: ['.'] },
    },
  },
} satisfies Record<string, Template>;

export type TemplateName = keyof typeof templates;

export const templateNames = Object.keys(templates) as TemplateName[];

export const isTemplateName = (name: string): name is TemplateName => Object.hasOwn(templates, name);
