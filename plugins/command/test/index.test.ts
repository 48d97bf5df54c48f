import { describe, expect, it } from 'vitest';
import { commandPlugin } from '../src/index.js';

describe('commandPlugin', () => {
  it('is available', async () => {
    expect((await commandPlugin.detect()).status).toBe('available');
  });
});
