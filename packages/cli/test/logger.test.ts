import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseInvocation, type Flags } from '../src/args.js';
import { cliLogger } from '../src/logger.js';

const flagsOf = (...argv: string[]): Flags => (parseInvocation([...argv, '--', 'true']) as { flags: Flags }).flags;

describe('cliLogger', () => {
  afterEach(() => vi.restoreAllMocks());

  it("leaves the kernel's own logger in place without --json", () => {
    expect(cliLogger(flagsOf('-m'))).toBeUndefined();
  });

  it('writes a warning as one JSON event with --json', () => {
    const write = vi.spyOn(process.stderr, 'write').mockReturnValue(true);
    cliLogger(flagsOf('-m', '--json'))!.warn('bwrap: no network namespace');
    const event = JSON.parse(String(write.mock.calls[0]![0]));
    expect(event).toMatchObject({ source: 'fence', action: 'warning', reason: 'bwrap: no network namespace' });
    expect(Number.isNaN(Date.parse(event.time))).toBe(false);
  });
});
