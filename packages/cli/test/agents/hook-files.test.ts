import { describe, expect, it } from 'vitest';
import { hookCommand, hookFile, installJson, installPlugin, uninstallJson, uninstallPlugin } from '../../src/agents/hook-files.js';
import { JsonEditError } from '../../src/agents/json-edit.js';

const CLAUDE_FILES: Record<string, string> = {
  'a file with other hooks, comments and odd spacing': `{
    // the user's model
    "model":   "opus",
    "permissions": { "allow": ["Bash(ls)"] },
    "hooks": {
        "PreToolUse": [
            { "matcher": "Edit", "hooks": [ { "type": "command", "command": "lint" } ] },
        ],
        "Stop": []
    }
}
`,
  'a file without hooks': '{\n  "model": "opus"\n}\n',
  'a file with tabs and CRLF line ends': '{\r\n\t"hooks": {\r\n\t\t"PostToolUse": []\r\n\t}\r\n}',
  'a file with a PreToolUse hook after which the user adds nothing': '{"hooks":{"PreToolUse":[{"matcher":"*","hooks":[]}]}}',
};

describe('hook files', () => {
  const cmd = hookCommand('claude', { settings: '/etc/fence.json' });

  it('names each agent\'s user and project files', () => {
    const scope = { home: '/h', env: {} };
    expect(hookFile('claude', scope)).toBe('/h/.claude/settings.json');
    expect(hookFile('codex', scope)).toBe('/h/.codex/hooks.json');
    expect(hookFile('codex', { ...scope, env: { CODEX_HOME: '/c' } })).toBe('/c/hooks.json');
    expect(hookFile('cursor', { ...scope, project: '/p' })).toBe('/p/.cursor/hooks.json');
    expect(hookFile('opencode', { ...scope, env: { XDG_CONFIG_HOME: '/x' } })).toBe('/x/opencode/plugins/fence.js');
    expect(hookFile('opencode', { ...scope, env: { XDG_CONFIG_HOME: 'relative' } })).toBe('/h/.config/opencode/plugins/fence.js');
    expect(cmd).toBe("fence --claude-pre-tool-use --settings '/etc/fence.json'");
  });

  it.each(Object.entries(CLAUDE_FILES))('install then uninstall leaves %s byte-identical', (_, original) => {
    const installed = installJson('claude', original, cmd);
    expect(installed.changed).toBe(true);
    expect(installed.text).toContain('"command": "fence --claude-pre-tool-use --settings \'/etc/fence.json\'"');
    // Everything the user wrote is still there, unchanged, before the added entry.
    expect(installJson('claude', installed.text, cmd)).toEqual({ text: installed.text, changed: false });
    expect(uninstallJson('claude', installed.text)).toEqual({ text: original, changed: true });
  });

  it('creates a missing file and removes it again', () => {
    const installed = installJson('claude', undefined, cmd);
    expect(JSON.parse(installed.text!)).toEqual({ hooks: { PreToolUse: [{ matcher: 'Bash', hooks: [{ type: 'command', command: cmd }] }] } });
    expect(uninstallJson('claude', installed.text)).toEqual({ text: undefined, changed: true });
    const cursor = installJson('cursor', undefined, 'fence --cursor-pre-tool-use');
    expect(JSON.parse(cursor.text!)).toEqual({ version: 1, hooks: { beforeShellExecution: [{ command: 'fence --cursor-pre-tool-use', failClosed: true }] } });
    expect(uninstallJson('cursor', cursor.text).text).toBeUndefined();
  });

  it('replaces its entry when the pinned settings change, keeping one entry', () => {
    const once = installJson('codex', CLAUDE_FILES['a file without hooks'], 'fence --codex-pre-tool-use').text!;
    const twice = installJson('codex', once, "fence --codex-pre-tool-use --template 'code'").text!;
    expect(twice.match(/--codex-pre-tool-use/g)).toHaveLength(1);
    expect(twice).toContain("--template 'code'");
    expect(uninstallJson('codex', twice).text).toBe(CLAUDE_FILES['a file without hooks']);
  });

  it('leaves other agents\' entries and a file without Fence\'s entry alone', () => {
    const claude = installJson('claude', undefined, cmd).text!;
    expect(uninstallJson('codex', claude)).toEqual({ text: claude, changed: false });
    expect(uninstallJson('claude', CLAUDE_FILES['a file without hooks'])).toEqual({ text: CLAUDE_FILES['a file without hooks'], changed: false });
  });

  it('refuses a file it cannot read as JSON or whose hooks have another shape, naming where', () => {
    expect(() => installJson('claude', '{ "hooks": ', cmd)).toThrow(/line 1, column \d+: not valid JSON/);
    expect(() => installJson('claude', '{ "hooks": { "PreToolUse": {} } }', cmd)).toThrow(new JsonEditError('"hooks.PreToolUse" is not an array'));
    expect(() => installJson('claude', '[]', cmd)).toThrow(/does not hold a JSON object/);
  });

  it('opencode: writes its own plugin file, never someone else\'s, and removes only its own', () => {
    const plugin = installPlugin(undefined, { template: 'code' });
    expect(plugin.text).toContain('["--opencode-pre-tool-use","--template","code"]');
    expect(installPlugin(plugin.text, { template: 'code' }).changed).toBe(false);
    expect(uninstallPlugin(plugin.text)).toEqual({ text: undefined, changed: true });
    expect(() => installPlugin('export const Mine = 1;\n', {})).toThrow(/not written by Fence/);
    expect(() => uninstallPlugin('export const Mine = 1;\n')).toThrow(/not written by Fence/);
  });
});
