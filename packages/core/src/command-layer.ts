/**
 * The command policy is a layer like any other (@fence/plugin-command, which provides `commands`),
 * so an embedder may leave it out of the plugin list. Then nothing would check `command.deny` or
 * `ssh`: a session whose settings name such rules refuses to start (fail closed, COMMAND_UNENFORCED),
 * and one that has only the built-in rules (`command.useDefaults`) starts with a warning.
 */
import { errors } from './errors.js';
import type { Kernel } from './kernel.js';
import { warn, type LaunchPlan } from './plan.js';
import type { Policy } from './policy.js';

/** What `provides` must name for a plugin to count as the command-policy layer. */
export const COMMAND_POLICY_CAPABILITY = 'commands';

/** The settings fields that restrict commands beyond the built-in rules, when set. */
export function explicitCommandRules(policy: Pick<Policy, 'command' | 'ssh'>): string[] {
  const { command, ssh } = policy;
  const fields: string[] = [];
  if (command.deny.length > 0) fields.push('command.deny');
  if (command.runtimeExecPolicy === 'argv') fields.push('command.runtimeExecPolicy "argv"');
  if (sshPolicyActive(ssh)) fields.push('ssh');
  return fields;
}

/** Whether the `ssh` section says anything: then every `ssh` command goes through it. */
export function sshPolicyActive(ssh: Policy['ssh']): boolean {
  return (
    ssh.allowedHosts.length + ssh.deniedHosts.length + ssh.allowedCommands.length + ssh.deniedCommands.length > 0 ||
    ssh.allowAllCommands ||
    ssh.inheritDeny
  );
}

/** Throws or warns when no active layer checks the command policy (see the file comment). */
export function requireCommandLayer(kernel: Kernel, plan: LaunchPlan): void {
  if (kernel.active.some((p) => p.provides.includes(COMMAND_POLICY_CAPABILITY))) return;
  const fields = explicitCommandRules(plan.policy);
  const why = 'no active plugin checks commands (add @fence/plugin-command to the plugins)';
  if (fields.length > 0) throw errors.commandUnenforced(fields, why);
  if (plan.policy.command.useDefaults) warn(plan, 'command', `the built-in command rules (sudo, shutdown, …) are not checked: ${why}`);
}
