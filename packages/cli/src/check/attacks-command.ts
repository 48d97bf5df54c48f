/**
 * Attacks on the command policy at the exec boundary (`command.runtimeExecPolicy`): a denied
 * program started by a script, its name out of sight of the command-line check. Only programs
 * whose probe is harmless on the host are tried (the same script runs there first).
 */
import { runtimePrograms } from '@fence/plugin-command';
import { sh, type Attack, type CheckContext } from './attack.js';

/** Denied-by-default programs and an argument that only prints something. */
const HARMLESS: Readonly<Record<string, string>> = { sudo: '--version', su: '--help', wipefs: '--version', mkswap: '--version' };

/** The first program the policy denies by a single-word rule that is installed and harmless to probe. */
const target = (ctx: CheckContext): string | undefined =>
  runtimePrograms(ctx.policy.command).programs.find((p) => HARMLESS[p] !== undefined && ctx.has(p));

export const commandAttacks: readonly Attack[] = [
  {
    name: 'run a denied program from a script',
    covers: 'command.runtimeExecPolicy',
    untestable: (ctx) => (target(ctx) ? undefined : `none of ${Object.keys(HARMLESS).join(', ')} is both installed and denied by a single-word rule`),
    // The name is assembled at run time, so only the exec boundary can refuse it.
    script: (ctx) => {
      const p = target(ctx)!;
      return `p=$(printf %s ${[...p].map(sh).join(' ')}); "$p" ${HARMLESS[p]} >/dev/null 2>&1 </dev/null && echo ok`;
    },
    judge: { kind: 'same-as-host' },
  },
];
