import { describe, expect, it } from 'vitest';
import { detectSeatbelt } from '../src/detect.js';

describe('detectSeatbelt', () => {
  it('is absent with a reason off macOS', async () => {
    expect(await detectSeatbelt('linux')).toMatchObject({ status: 'absent', reason: 'Seatbelt exists only on macOS' });
  });
});
