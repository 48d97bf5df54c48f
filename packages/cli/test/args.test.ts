import { FenceError } from '@fence/core';
import { describe, expect, it } from 'vitest';
import { parseInvocation } from '../src/args.js';

const fail = (argv: string[]) => {
  try {
    parseInvocation(argv);
  } catch (e) {
    expect(e).toBeInstanceOf(FenceError);
    return (e as FenceError).message;
  }
  throw new Error(`expected ${argv.join(' ')} to fail`);
};

describe('parseInvocation', () => {
  it('stops flag parsing at -- and keeps the command exactly', () => {
    const inv = parseInvocation(['-m', '--', 'ls', '-la', '--', '-d']);
    expect(inv).toMatchObject({ kind: 'run', command: ['ls', '-la', '--', '-d'], flags: { monitor: true, debug: false } });
  });

  it('stops flag parsing at the first word that is not a flag', () => {
    expect(parseInvocation(['-d', 'grep', '-r', 'x'])).toMatchObject({ kind: 'run', command: ['grep', '-r', 'x'], flags: { debug: true } });
  });

  it('takes a shell string with -c', () => {
    expect(parseInvocation(['-c', 'echo hi && ls'])).toMatchObject({ kind: 'run', command: 'echo hi && ls' });
  });

  it('refuses words after the -c string', () => {
    expect(fail(['-c', 'echo', 'hi'])).toMatch(/-c: takes one shell string; unexpected "hi"/);
  });

  it('collects repeated -p ports', () => {
    expect(parseInvocation(['-p', '3000', '--port', '8080', '--', 'x'])).toMatchObject({ flags: { ports: [3000, 8080] } });
  });

  it.each(['0', '65536', '80a', '-1', '1.5'])('refuses the port %s, naming it', (port) => {
    expect(fail(['-p', port, '--', 'x'])).toContain(port);
  });

  it('reads settings, template, strict, json and plugins', () => {
    const inv = parseInvocation(['-s', 'f.json', '-t', 'npm-install', '--strict', '-m', '--json', '--plugin', 'a', '--plugin', 'b', '--', 'x']);
    expect(inv).toMatchObject({ flags: { settings: 'f.json', template: 'npm-install', strict: true, json: true, plugins: ['a', 'b'] } });
  });

  it('refuses --json without -m or -d', () => {
    expect(fail(['--json', '--', 'x'])).toMatch(/--json: only applies with -m or -d/);
  });

  it('refuses unknown flags and says where to look', () => {
    expect(fail(['--frobnicate', '--', 'x'])).toMatch(/frobnicate.*fence --help/);
  });

  it('requires a command', () => {
    expect(fail([])).toMatch(/no command given/);
    expect(fail(['-m', '--'])).toMatch(/no command given/);
  });

  it('recognises the subcommands, but not after --', () => {
    expect(parseInvocation(['config', 'show'])).toMatchObject({ kind: 'config-show' });
    expect(parseInvocation(['config', 'schema'])).toMatchObject({ kind: 'config-schema' });
    expect(parseInvocation(['check'])).toMatchObject({ kind: 'check' });
    expect(parseInvocation(['--', 'check'])).toMatchObject({ kind: 'run', command: ['check'] });
    expect(fail(['config', 'frob'])).toMatch(/unknown config subcommand/);
  });

  it('takes flags after a subcommand, as before it', () => {
    expect(parseInvocation(['config', 'show', '-t', 'npm-install'])).toMatchObject({ kind: 'config-show', flags: { template: 'npm-install' } });
    expect(parseInvocation(['-s', 'a.json', 'config', '-t', 'npm-install', 'show'])).toMatchObject({
      kind: 'config-show',
      flags: { settings: 'a.json', template: 'npm-install' },
    });
    expect(parseInvocation(['--plugin', 'a', 'check', '--plugin', 'b', '--strict'])).toMatchObject({ kind: 'check', flags: { plugins: ['a', 'b'], strict: true } });
  });

  it('refuses unknown flags and -c after a subcommand', () => {
    expect(fail(['config', 'show', '--frob'])).toMatch(/frob.*fence --help/);
    expect(fail(['check', '-c', 'ls'])).toMatch(/-c: runs a command; it does not apply to "fence check"/);
  });

  it('recognises --version, --help, --linux-features and --landlock-apply', () => {
    expect(parseInvocation(['-v'])).toEqual({ kind: 'version' });
    expect(parseInvocation(['--help'])).toEqual({ kind: 'help' });
    expect(parseInvocation(['--linux-features'])).toMatchObject({ kind: 'features' });
    expect(parseInvocation(['--landlock-apply', '--', 'ls'])).toEqual({ kind: 'landlock-apply', command: ['ls'] });
  });

  it('parses the agent hooks\' entry points, with a pinned policy', () => {
    expect(parseInvocation(['--claude-pre-tool-use', '-t', 'code'])).toMatchObject({ kind: 'pre-tool-use', agent: 'claude', flags: { template: 'code' } });
    expect(parseInvocation(['--cursor-pre-tool-use', '--settings', '/p.json'])).toMatchObject({ kind: 'pre-tool-use', agent: 'cursor', flags: { settings: '/p.json' } });
    expect(fail(['--codex-pre-tool-use', '--', 'ls'])).toMatch(/--codex-pre-tool-use: reads one tool call as JSON on stdin/);
    expect(fail(['--codex-pre-tool-use', '--claude-pre-tool-use'])).toMatch(/no other entry point/);
  });

  it('parses fence hooks and fence import, and keeps their flags to them', () => {
    expect(parseInvocation(['hooks', 'install', '--claude', '--cursor', '--project', '-t', 'code'])).toMatchObject({
      kind: 'hooks',
      action: 'install',
      agents: ['claude', 'cursor'],
      project: true,
      flags: { template: 'code' },
    });
    expect(parseInvocation(['import', '--claude', '--save'])).toMatchObject({ kind: 'import', save: true });
    expect(fail(['hooks', 'frob', '--claude'])).toMatch(/use "fence hooks print\|install\|uninstall" with --claude, --codex, --cursor, --opencode/);
    expect(fail(['hooks', 'print'])).toMatch(/name the agent/);
    expect(fail(['import', '--codex'])).toMatch(/use "fence import --claude \[--save\]"/);
    expect(fail(['import', '--claude', '-t', 'code'])).toMatch(/--template: does not apply to "fence import"/);
    expect(fail(['--claude', '--', 'ls'])).toMatch(/--claude: only applies to "fence hooks" and "fence import"/);
    expect(fail(['config', 'show', '--save'])).toMatch(/--save: only applies/);
  });
});
