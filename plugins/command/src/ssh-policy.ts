/**
 * The SSH policy (`ssh.*`): which hosts an `ssh` command may reach and which remote commands it
 * may run there. Pure. The decision is taken on the command line, before ssh connects:
 *
 *   1. the host matches deniedHosts          → refuse
 *   2. the host matches no allowedHosts      → refuse
 *   3. no remote command (interactive, -N)   → allow
 *   4. a remote command matches deniedCommands → refuse
 *   5. inheritDeny and command.deny (or the built-in rules) refuse it → refuse
 *   6. allowAllCommands                      → allow
 *   7. every remote command matches allowedCommands → allow
 *   8. otherwise                             → refuse
 *
 * ssh's own syntax is parsed as OpenSSH does: options with values (`-p 22`, `-p22`, `-l user`,
 * `-o Key=Value`), grouped flags (`-tt`, `-vp 22`), options after the destination too
 * (`ssh host -p 22 cmd`) unless `--` came first, `user@host`, `ssh://user@host:port`.
 * The remote command is every word after the destination joined by spaces, which the remote shell
 * parses: each of its simple commands is checked. `-o HostName=…` and jump hosts (`-J`,
 * `-o ProxyJump=…`) are hosts too and must pass; `-o RemoteCommand=…` is the remote command.
 * A `Host` alias of an ssh_config file is compared as written (the file is not read).
 */
import type { Policy } from '@fence/core';
import { splitShellCommands } from './command-parse.js';
import { commandDenialOf, denialRule, matchRule, type CommandDenial } from './command-rules.js';
import { commandViews } from './command-views.js';

/** ssh(1) options that take a value (the next word, or the rest of the same word). */
const WITH_VALUE = new Set('BbcDEeFIiJLlmOoPpQRSWw'.split(''));

export interface SshInvocation {
  /** Every host the command connects to: the destination, `-o HostName`, jump hosts. */
  readonly hosts: readonly string[];
  /** The remote command as ssh sends it (words joined by spaces), or undefined when interactive. */
  readonly remote: string | undefined;
}

/** `user@host:port`, `ssh://user@host:port/`, `[::1]:22` → the host. */
function hostOf(destination: string): string {
  let d = destination.replace(/^ssh:\/\//i, '').replace(/\/$/, '');
  d = d.slice(d.lastIndexOf('@') + 1);
  if (d.startsWith('[')) return d.slice(1, d.indexOf(']') === -1 ? undefined : d.indexOf(']'));
  if (/^ssh:\/\//i.test(destination) || d.split(':').length === 2) return d.split(':')[0]!;
  return d;
}

/** `Key=Value` or `Key Value` → [key in lower case, value]. */
function option(text: string): [string, string] {
  const m = /^\s*([A-Za-z]+)\s*(?:=\s*|\s+)(.*)$/.exec(text);
  return m ? [m[1]!.toLowerCase(), m[2]!] : [text.toLowerCase(), ''];
}

/** The hosts and remote command of `ssh <args>`; undefined when it connects nowhere (`ssh -V`). */
export function parseSsh(args: readonly string[]): SshInvocation | undefined {
  const hosts: string[] = [];
  let remote: string | undefined;
  let i = 0;
  const take = (flag: string, value: string): void => {
    if (flag === 'J') hosts.push(...value.split(',').map(hostOf));
    if (flag !== 'o') return;
    const [key, v] = option(value);
    if (key === 'hostname') hosts.push(v);
    else if (key === 'proxyjump' && v.toLowerCase() !== 'none') hosts.push(...v.split(',').map(hostOf));
    else if (key === 'remotecommand' && v.toLowerCase() !== 'none') remote = v;
  };
  let terminated = false;
  /** Options up to the next operand; ssh reads them before and after the destination. */
  const options = (): void => {
    for (; i < args.length; i++) {
      const a = args[i]!;
      if (a === '--') {
        terminated = true;
        i++;
        return;
      }
      if (!a.startsWith('-') || a === '-') return;
      for (let j = 1; j < a.length; j++) {
        const flag = a[j]!;
        if (!WITH_VALUE.has(flag)) continue;
        take(flag, j + 1 < a.length ? a.slice(j + 1) : (args[++i] ?? ''));
        break;
      }
    }
  };
  options();
  const destination = args[i++];
  if (destination === undefined) return undefined;
  if (!terminated) options();
  const words = args.slice(i);
  return { hosts: [hostOf(destination), ...hosts], remote: words.length > 0 ? words.join(' ') : remote };
}

/** `prod-*.example.com`: `*` matches any run of characters, anywhere; case-insensitive. */
export function hostMatches(pattern: string, host: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
  return re.test(host);
}

type SshDenial = Omit<CommandDenial, 'command'>;

/** Why the ssh policy refuses `ssh <args>`, or undefined when it allows it (see the file comment). */
export function sshDenial(args: readonly string[], policy: Pick<Policy, 'command' | 'ssh'>): SshDenial | undefined {
  const ssh = parseSsh(args);
  if (!ssh) return undefined;
  const rules = policy.ssh;
  for (const host of ssh.hosts) {
    const denied = rules.deniedHosts.find((p) => hostMatches(p, host));
    if (denied !== undefined) return { rule: denied, field: 'ssh.deniedHosts' };
    if (!rules.allowedHosts.some((p) => hostMatches(p, host))) return { rule: host, field: 'ssh.allowedHosts' };
  }
  if (ssh.remote === undefined) return undefined;
  const views = splitShellCommands(ssh.remote).flatMap((c) => commandViews(c));
  for (const view of views) {
    const denied = matchRule(rules.deniedCommands, view);
    if (denied !== undefined) return { rule: denied, field: 'ssh.deniedCommands' };
  }
  if (rules.inheritDeny) {
    for (const view of views) {
      const inherited = commandDenialOf(view, policy.command);
      if (inherited) return { rule: denialRule(inherited), field: 'ssh.inheritDeny' };
    }
  }
  if (rules.allowAllCommands) return undefined;
  const unlisted = views.find((view) => matchRule(rules.allowedCommands, view) === undefined);
  return unlisted ? { rule: unlisted.join(' '), field: 'ssh.allowedCommands' } : undefined;
}
