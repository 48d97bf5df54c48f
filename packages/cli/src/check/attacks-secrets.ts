/** Attacks on secrets staying home (SPEC §2): the credential variables of Fence's own environment. */
import { variableRemover } from '@fence/core';
import { printedOk, sh, type Attack, type CheckContext } from './attack.js';

/** The variables set here that the policy removes (`environment`): each one reaching the sandbox is a leak. */
const removedHere = (ctx: CheckContext): string[] => {
  const removed = variableRemover(ctx.policy.environment);
  return Object.keys(process.env).filter((name) => process.env[name] && removed(name));
};

export const secretsAttacks: readonly Attack[] = [
  {
    name: 'read a credential variable',
    covers: 'environment',
    untestable: (ctx) => (removedHere(ctx).length > 0 ? undefined : 'no variable the policy removes is set in this environment'),
    // Prints `ok NAME` for the first removed variable the sandbox still has.
    script: (ctx) => `for n in ${removedHere(ctx).map(sh).join(' ')}; do [ -n "$(printenv -- "$n")" ] && { echo "ok $n"; break; }; done; true`,
    judge: printedOk,
  },
];
