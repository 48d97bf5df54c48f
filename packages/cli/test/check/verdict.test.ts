import { describe, expect, it } from 'vitest';
import { exitStatus, outcomeLine, summaryLine, type Outcome } from '../../src/check/verdict.js';

describe('the verdict of fence check', () => {
  it('prints one line per attack with its verdict and why', () => {
    expect(outcomeLine('a', { kind: 'stopped' })).toBe('  ✓ stopped: a');
    expect(outcomeLine('a', { kind: 'escaped' })).toBe('  ✗ NOT stopped: a');
    expect(outcomeLine('a', { kind: 'allowed', why: 'x' })).toBe('  = allowed by the policy: a (x)');
    expect(outcomeLine('a', { kind: 'untested', why: 'y' })).toBe('  ○ not tested: a (y)');
  });

  it('fails only when something the policy forbids got through', () => {
    const fine: Outcome[] = [{ kind: 'stopped' }, { kind: 'allowed', why: 'x' }, { kind: 'untested', why: 'y' }];
    expect(exitStatus(fine)).toBe(0);
    expect(summaryLine(fine)).toBe('fence check: every attack tested was stopped (1 stopped, 1 allowed by the policy, 1 not tested)');
    expect(exitStatus([...fine, { kind: 'escaped' }])).toBe(1);
    expect(summaryLine([...fine, { kind: 'escaped' }])).toBe('fence check: 1 attack(s) NOT stopped (1 stopped, 1 allowed by the policy, 1 not tested)');
  });
});
