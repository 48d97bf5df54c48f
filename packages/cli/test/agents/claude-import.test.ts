import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SettingsSchema } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { fencePath, importClaudeRules } from '../../src/agents/claude-import.js';

const recorded = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/agents/claude-settings.json'), 'utf8'));

describe('fence import --claude', () => {
  it('reads Claude Code paths the way its documentation defines them', () => {
    expect(fencePath('//etc/shadow', '/w', '/p')).toBe('/etc/shadow');
    expect(fencePath('~/.aws', '/w', '/p')).toBe('~/.aws');
    expect(fencePath('/package-lock.json', '/w', '/p')).toBe('/p/package-lock.json');
    expect(fencePath('./.env', '/w', '/p')).toBe('/w/.env');
    expect(fencePath('src/**', '/w', '/p')).toBe('/w/src/**');
    expect(fencePath('*.pem', '/w', '/p')).toBe('/w/**/*.pem');
  });

  it('maps a recorded settings file onto settings extending code, and lists what it could not map', () => {
    const { settings, mapped, unmapped } = importClaudeRules([{ file: '/p/.claude/settings.json', root: '/p', ...recorded.permissions }], '/p');
    expect(settings).toEqual({
      extends: 'code',
      command: { deny: ['curl', 'rm -rf'], allow: ['npm run test', 'git diff'] },
      filesystem: { denyRead: ['/p/.env', '/p/secrets/**', '/etc/shadow'], denyWrite: ['/p/package-lock.json'], allowWrite: ['/p/src/**'] },
      network: { deniedDomains: ['pastebin.com'], allowedDomains: ['docs.python.org'] },
    });
    expect(SettingsSchema.safeParse(settings).success).toBe(true);
    expect(mapped).toBe(11);
    expect(unmapped.map((u) => `${u.list} ${u.rule}`)).toEqual([
      'ask Bash(git commit:*)',
      'deny WebFetch(domain:https://evil.example)',
      'allow Bash(git status)',
      'allow Bash(curl -s localhost:*)',
      'allow Read(~/.zshrc)',
      'allow WebSearch',
      'allow mcp__github__create_issue',
    ]);
    expect(unmapped.find((u) => u.rule === 'Bash(git status)')?.why).toMatch(/prefixes/);
    expect(unmapped.find((u) => u.rule === 'Bash(curl -s localhost:*)')?.why).toBe('the deny rule "curl" covers it, and Claude Code lets deny win (in Fence an allow rule would win)');
  });
});
