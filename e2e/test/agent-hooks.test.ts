/**
 * The agent hooks through the real `fence`: each entry point against recorded payloads (deny,
 * rewrite, already inside Fence), the rewritten command really running in the sandbox, and
 * `fence hooks install|uninstall` on the agents' files.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, FENCE_BIN, own, userArgv, USERS, workspace, type Workspace } from '../src/fence.js';

const FIXTURES = join(import.meta.dirname, '../../packages/cli/test/fixtures/agents');
const payload = (name: string, command: string, cwd: string): string => {
  const p = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
  if ('tool_input' in p) p.tool_input.command = command;
  else if ('args' in p) p.args.command = command;
  else p.command = command;
  p.cwd = cwd;
  return JSON.stringify(p);
};

/** A PATH with `fence` on it, as an installed Fence has (the rewritten commands call `fence`). */
function pathWithFence(ws: Workspace): string {
  // In the workspace: a sibling under /tmp would be hidden by the sandbox's private /tmp.
  const bin = join(ws.dir, '.bin');
  mkdirSync(bin, { recursive: true });
  if (!existsSync(join(bin, 'fence'))) symlinkSync(FENCE_BIN, join(bin, 'fence'));
  return `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`;
}

/** Runs a shell command as the workspace's user, as the agent would run the rewritten command. */
function shellAs(ws: Workspace, command: string) {
  const [cmd, ...args] = userArgv(ws.user, ['bash', '-c', command]);
  return spawnSync(cmd!, args, { cwd: ws.dir, encoding: 'utf8', env: { PATH: pathWithFence(ws), HOME: ws.home, LANG: 'C.UTF-8' }, timeout: 30_000 });
}

function writeOwned(ws: Workspace, file: string, text: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  for (let d = dirname(file); d.startsWith(ws.home) && d !== ws.home; d = dirname(d)) own(ws, d);
  own(ws, file);
}

describe.each(USERS)('agent hooks through the fence binary (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it.each([
    ['claude', 'claude-pre-tool-use.json'],
    ['codex', 'codex-pre-tool-use.json'],
  ])('--%s-pre-tool-use denies git push under the code template, naming the rule', async (agent, file) => {
    ws = workspace(user);
    const r = await fence(ws, [`--${agent}-pre-tool-use`, '-t', 'code'], { input: payload(file, 'echo hi && git push origin main', ws.dir) });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      hookSpecificOutput: {
        hookEventName: 'PreToolUse',
        permissionDecision: 'deny',
        permissionDecisionReason: 'fence: command "git push origin main" is denied by command.deny rule "git push"; remove the rule or add an exception to command.allow',
      },
    });
  });

  it('--claude-pre-tool-use rewrites an allowed command to run through fence -c, and that command runs in the sandbox', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['--claude-pre-tool-use', '-t', 'code'], { input: payload('claude-pre-tool-use.json', 'echo "inside=$FENCE_SANDBOX"; touch /etc/fence-hook-e2e', ws.dir) });
    const out = JSON.parse(r.stdout).hookSpecificOutput;
    expect(out.permissionDecision).toBe('allow');
    expect(out.updatedInput).toEqual({
      command: `fence --template 'code' -c 'echo "inside=$FENCE_SANDBOX"; touch /etc/fence-hook-e2e'`,
      description: 'Push the branch to origin',
      timeout: 120000,
    });
    const run = shellAs(ws, out.updatedInput.command);
    expect(run.stdout).toBe('inside=1\n');
    expect(run.stderr).toBe("touch: cannot touch '/etc/fence-hook-e2e': Read-only file system\n");
    expect(existsSync('/etc/fence-hook-e2e')).toBe(false);
  });

  it('--claude-pre-tool-use inside Fence lets an allowed command pass unchanged and still denies', async () => {
    ws = workspace(user);
    const path = pathWithFence(ws);
    writeOwned(ws, join(ws.dir, 'ok.json'), payload('claude-pre-tool-use.json', 'ls', ws.dir));
    writeOwned(ws, join(ws.dir, 'push.json'), payload('claude-pre-tool-use.json', 'git push', ws.dir));
    const r = await fence(ws, ['-t', 'code', '-c', 'fence --claude-pre-tool-use -t code < ok.json; echo "[$?]"; fence --claude-pre-tool-use -t code < push.json'], { env: { PATH: path } });
    const [pass, deny] = r.stdout.split('[0]\n');
    expect(pass).toBe('');
    expect(JSON.parse(deny!).hookSpecificOutput.permissionDecision).toBe('deny');
  });

  it('--cursor-pre-tool-use denies with messages and allows (it cannot rewrite)', async () => {
    ws = workspace(user);
    const deny = await fence(ws, ['--cursor-pre-tool-use'], { input: payload('cursor-before-shell-execution.json', 'sudo rm -rf /', ws.dir) });
    expect(JSON.parse(deny.stdout)).toMatchObject({ permission: 'deny', agent_message: expect.stringContaining('built-in rule "sudo"') });
    const allow = await fence(ws, ['--cursor-pre-tool-use'], { input: payload('cursor-before-shell-execution.json', 'ls', ws.dir) });
    expect(JSON.parse(allow.stdout)).toEqual({ permission: 'allow' });
  });

  it('fails closed: a payload that is not JSON or bad settings are a denial naming why', async () => {
    ws = workspace(user);
    const bad = await fence(ws, ['--claude-pre-tool-use'], { input: 'not json' });
    expect(JSON.parse(bad.stdout).hookSpecificOutput).toMatchObject({ permissionDecision: 'deny', permissionDecisionReason: expect.stringMatching(/payload on stdin is not JSON/) });
    const array = JSON.stringify({ ...JSON.parse(payload('codex-pre-tool-use.json', '', ws.dir)), tool_input: { command: ['bash', '-lc', 'git push'] } });
    const unreadable = await fence(ws, ['--codex-pre-tool-use'], { input: array });
    expect(JSON.parse(unreadable.stdout).hookSpecificOutput.permissionDecisionReason).toBe('fence: this codex shell call carries no command string Fence can check; the command was not run');
    writeOwned(ws, join(ws.dir, 'fence.json'), '{ "network": { "allowedDomains": ["*.com"] } }');
    const settings = await fence(ws, ['--codex-pre-tool-use'], { input: payload('codex-pre-tool-use.json', 'ls', ws.dir) });
    expect(JSON.parse(settings.stdout).hookSpecificOutput.permissionDecisionReason).toMatch(/^fence: .*fence\.json: invalid settings:[\s\S]*network\.allowedDomains\[0\][\s\S]*\(the command was not run\)$/);
  });

  it('opencode: the installed plugin refuses a denied command and rewrites an allowed one', async () => {
    ws = workspace(user);
    const env = { PATH: pathWithFence(ws), XDG_CONFIG_HOME: join(ws.home, '.config') };
    const install = await fence(ws, ['hooks', 'install', '--opencode', '-t', 'code'], { env });
    const plugin = join(ws.home, '.config/opencode/plugins/fence.js');
    expect(install.stderr).toBe(`fence: the opencode hook installed in ${plugin}\n`);
    // opencode loads the file as an ES module and calls tool.execute.before(input, output).
    const driver = `
      const { FencePlugin } = await import(${JSON.stringify(plugin)});
      const hooks = await FencePlugin({ directory: process.cwd() });
      const run = async (command) => {
        const output = { args: { command } };
        try { await hooks['tool.execute.before']({ tool: 'bash', sessionID: 's', callID: 'c' }, output); return output.args.command; }
        catch (e) { return 'refused: ' + e.message; }
      };
      console.log(JSON.stringify([await run('git push'), await run('ls -la')]));`;
    const [cmd, ...args] = userArgv(user, [process.execPath, '--input-type=module', '-e', driver]);
    const r = spawnSync(cmd!, args, { cwd: ws.dir, encoding: 'utf8', env: { ...env, HOME: ws.home } });
    expect(JSON.parse(r.stdout)).toEqual([expect.stringMatching(/^refused: fence: command "git push" is denied by command\.deny rule "git push"/), "fence --template 'code' -c 'ls -la'"]);
    const uninstall = await fence(ws, ['hooks', 'uninstall', '--opencode'], { env });
    expect(uninstall.status).toBe(0);
    expect(existsSync(plugin)).toBe(false);
  });
});

const CLAUDE_SETTINGS = `{
  "model": "opus",
  // JSONC is tolerated; everything here must survive
  "hooks": {
    "PostToolUse": [
      { "matcher": "Edit|Write", "hooks": [ { "type": "command", "command": "npx prettier --write" } ] }
    ]
  },
  "permissions": { "allow": ["Bash(npm test:*)"] }
}
`;

describe.each(USERS)('fence hooks install|uninstall (as %s)', (user) => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  it('install then uninstall leaves ~/.claude/settings.json byte-identical; install is idempotent', async () => {
    ws = workspace(user);
    const file = join(ws.home, '.claude/settings.json');
    writeOwned(ws, file, CLAUDE_SETTINGS);
    writeOwned(ws, join(ws.dir, 'policy.json'), '{ "extends": "code" }');
    const env = { PATH: pathWithFence(ws) };
    const first = await fence(ws, ['hooks', 'install', '--claude', '-s', 'policy.json'], { env });
    expect(first.stderr).toBe(`fence: the claude hook installed in ${file}\n`);
    const installed = JSON.parse(readFileSync(file, 'utf8').replace(/\/\/.*\n/, ''));
    expect(installed.hooks.PreToolUse).toEqual([{ matcher: 'Bash', hooks: [{ type: 'command', command: `fence --claude-pre-tool-use --settings '${ws.dir}/policy.json'` }] }]);
    expect(installed.hooks.PostToolUse).toHaveLength(1);
    const again = await fence(ws, ['hooks', 'install', '--claude', '-s', 'policy.json'], { env });
    expect(again.stderr).toBe(`fence: the claude hook already installed in ${file}\n`);
    const removed = await fence(ws, ['hooks', 'uninstall', '--claude']);
    expect(removed.stderr).toBe(`fence: the claude hook removed from ${file}\n`);
    expect(readFileSync(file, 'utf8')).toBe(CLAUDE_SETTINGS);
  });

  it('codex, cursor and opencode files it creates are removed again; --project writes the project\'s', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['hooks', 'install', '--codex', '--cursor', '--opencode', '--project'], { env: { PATH: '/usr/bin:/bin' } });
    expect(r.status).toBe(0);
    // The agent would not find `fence` with this PATH: said, not silent.
    expect(r.stderr).toMatch(/fence: warning: no "fence" on PATH/);
    const files = ['.codex/hooks.json', '.cursor/hooks.json', '.opencode/plugins/fence.js'].map((f) => join(ws.dir, f));
    for (const f of files) expect(existsSync(f), f).toBe(true);
    expect(JSON.parse(readFileSync(files[1]!, 'utf8'))).toEqual({ version: 1, hooks: { beforeShellExecution: [{ command: 'fence --cursor-pre-tool-use', failClosed: true }] } });
    await fence(ws, ['hooks', 'uninstall', '--codex', '--cursor', '--opencode', '--project']);
    for (const f of files) expect(existsSync(f), f).toBe(false);
  });

  it('refuses a file it cannot read, naming it, and changes nothing', async () => {
    ws = workspace(user);
    const file = join(ws.home, '.claude/settings.json');
    writeOwned(ws, file, '{ "hooks": { "PreToolUse": {} } }');
    const r = await fence(ws, ['hooks', 'install', '--claude', '--codex']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`fence: ${file}: "hooks.PreToolUse" is not an array; fix the file (or move it away) and run fence hooks install --claude again; nothing was changed\n`);
    expect(existsSync(join(ws.home, '.codex/hooks.json'))).toBe(false);
  });

  it('print shows the entry and where it goes; a missing agent flag is a clear error', async () => {
    ws = workspace(user);
    const r = await fence(ws, ['hooks', 'print', '--cursor', '-t', 'code']);
    expect(r.stdout).toBe(`// ${ws.home}/.cursor/hooks.json\n${JSON.stringify({ version: 1, hooks: { beforeShellExecution: [{ command: "fence --cursor-pre-tool-use --template 'code'", failClosed: true }] } }, null, 2)}\n`);
    const none = await fence(ws, ['hooks', 'install']);
    expect(none.stderr).toBe('fence: hooks install: name the agent: --claude, --codex, --cursor, --opencode (several at once are fine)\n');
  });
});
