/**
 * What `fence check` concludes about each attack, and how it says it (pure). Only an action the
 * policy forbids that got through is an escape; an action the policy allows is never one.
 */
export type Outcome =
  | { readonly kind: 'stopped' }
  | { readonly kind: 'escaped' }
  | { readonly kind: 'allowed'; readonly why: string }
  | { readonly kind: 'untested'; readonly why: string };

export function outcomeLine(name: string, o: Outcome): string {
  switch (o.kind) {
    case 'stopped':
      return `  ✓ stopped: ${name}`;
    case 'escaped':
      return `  ✗ NOT stopped: ${name}`;
    case 'allowed':
      return `  = allowed by the policy: ${name} (${o.why})`;
    case 'untested':
      return `  ○ not tested: ${name} (${o.why})`;
  }
}

export function summaryLine(outcomes: readonly Outcome[]): string {
  const count = (kind: Outcome['kind']) => outcomes.filter((o) => o.kind === kind).length;
  const counts = `${count('stopped')} stopped, ${count('allowed')} allowed by the policy, ${count('untested')} not tested`;
  const escaped = count('escaped');
  return escaped > 0 ? `fence check: ${escaped} attack(s) NOT stopped (${counts})` : `fence check: every attack tested was stopped (${counts})`;
}

/** Non-zero only when something the policy forbids got through. */
export const exitStatus = (outcomes: readonly Outcome[]): number => (outcomes.some((o) => o.kind === 'escaped') ? 1 : 0);
