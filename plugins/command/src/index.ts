/**
 * @fence/plugin-command: the command policy (`command.*`, `ssh.*`). A guard against mistakes, not
 * a security boundary (see command-policy.ts); it serves every platform.
 *
 *   - spawn: the command line is checked before anything starts; a refusal is COMMAND_DENIED.
 *   - runtimeExecPolicy "path" (prepare, KERNEL_LAYERS): the executables of single-word rules are
 *     listed in `plan.exec.unexecutable`, which the sandbox layer makes unexecutable.
 *   - runtimeExecPolicy "argv": the exec hook judges every execve an exec supervisor (on Linux the
 *     seccomp layer) reports; without one the session refuses to start (fail closed).
 */
import { errors, PrepareStage, Tokens, warn, note, type FencePlugin, type Policy } from '@fence/core';
import { checkCommand } from './command-policy.js';
import { DEFAULT_DENIED_COMMANDS } from './command-rules.js';
import { baseName } from './command-views.js';
import { splitShellCommands } from './command-parse.js';
import { execDenial, execViolation } from './exec-policy.js';
import { aliasIndex, findDeniedExecutables, searchDirs, USUAL_DIRS, type AliasIndex } from './executables.js';
import { ProgramIdentity } from './program-identity.js';
import { ruleProblems } from './rule-problems.js';
import { planMasks, runtimePrograms } from './runtime-deny.js';

const NAME = 'command';

/** Every program a rule names first, for recognising renamed copies in "argv" mode. */
function ruledPrograms(policy: Policy): string[] {
  const rules = [...policy.command.deny, ...(policy.command.useDefaults ? DEFAULT_DENIED_COMMANDS : [])];
  const first = rules.map((r) => splitShellCommands(r)[0]?.[0]).filter((w): w is string => w !== undefined);
  return [...new Set([...first.map(baseName), 'ssh'])];
}

export const commandPlugin: FencePlugin = {
  name: NAME,
  platforms: ['linux', 'darwin'],
  provides: ['commands'],
  async detect() {
    // The one costly part (a stat of every program's name), cached by the kernel until a
    // directory of PATH or the usual ones changes.
    const aliases = JSON.stringify(aliasIndex(searchDirs(process.env.PATH)));
    return { status: 'available', summary: NAME, facts: { aliases }, dependsOn: USUAL_DIRS };
  },
  apply(kernel) {
    const violations = kernel.resolve(Tokens.Violations);
    const clock = kernel.resolve(Tokens.Clock);
    let aliases: AliasIndex | undefined;
    const denied = (programs: readonly string[]) => findDeniedExecutables(programs, searchDirs(process.env.PATH), aliases);
    kernel.hooks.detect.tap(NAME, (report, policy) => {
      const known = report.get(NAME)?.facts?.aliases;
      aliases = typeof known === 'string' ? (JSON.parse(known) as AliasIndex) : undefined;
      const problems = ruleProblems(policy);
      if (problems.length > 0) throw errors.settingsInvalid('settings', problems.join('\n'));
      if (policy.command.runtimeExecPolicy !== 'argv') return;
      let identity: ProgramIdentity | undefined;
      let lastRefused = '';
      kernel.hooks.exec.tap(NAME, (request) => {
        identity ??= new ProgramIdentity(denied(ruledPrograms(policy)));
        const denial = execDenial(request, policy, identity);
        if (!denial) return undefined;
        const violation = execViolation(request, denial, clock.now());
        // A shell's PATH search tries each directory in turn, every try refused: one event for them.
        const key = `${request.pid}\0${request.argv.join('\0')}`;
        if (key !== lastRefused) violations.emit(violation);
        lastRefused = key;
        return { allow: false, reason: violation.reason };
      });
    });
    kernel.hooks.spawn.tap(NAME, ({ argv, policy }) => checkCommand(argv, policy));
    kernel.hooks.prepare.tap({ name: NAME, stage: PrepareStage.KERNEL_LAYERS }, (plan) => {
      const { command } = plan.policy;
      if (command.runtimeExecPolicy !== 'path') return;
      const programs = runtimePrograms(command);
      const masks = planMasks(denied(programs.programs), command, programs);
      plan.exec.unexecutable.push(...masks.files);
      for (const w of masks.warnings) warn(plan, NAME, w);
      for (const n of masks.notes) note(plan, NAME, n);
    });
    kernel.hooks.prepare.tap({ name: NAME, stage: PrepareStage.REPORT }, (plan) => {
      if (plan.policy.command.runtimeExecPolicy !== 'argv') return;
      // Fail closed: "argv" promises every exec is judged; without a supervisor none would be.
      if (plan.exec.supervisor === undefined) {
        throw errors.commandUnenforced(['command.runtimeExecPolicy "argv"'], 'no layer reports the sandbox\'s execve calls here (it needs Linux seccomp user notification and the native addon: see fence --linux-features); use "path"');
      }
      note(plan, NAME, `every execve goes to ${plan.exec.supervisor} and is checked against the command rules`);
    });
  },
};

export default commandPlugin;

export { commandRuleProblem, splitShellCommands } from './command-parse.js';
export { checkCommand, commandDeniedError, findCommandDenial } from './command-policy.js';
export { DEFAULT_DENIED_COMMANDS, denialRule, matchRule, type CommandDenial, type DenialField } from './command-rules.js';
export { commandViews } from './command-views.js';
export { commandTriggers, type CommandTriggers } from './command-triggers.js';
export { execDenial, execViolation } from './exec-policy.js';
export { aliasIndex, CRITICAL_COMMANDS, findDeniedExecutables, searchDirs, USUAL_DIRS, type AliasIndex, type DeniedExecutable } from './executables.js';
export { ProgramIdentity } from './program-identity.js';
export { ruleProblems } from './rule-problems.js';
export { planMasks, runtimePrograms, type MaskPlan, type RuntimePrograms } from './runtime-deny.js';
export { hostMatches, parseSsh, sshDenial, type SshInvocation } from './ssh-policy.js';
