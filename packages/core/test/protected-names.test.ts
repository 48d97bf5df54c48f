import { describe, expect, it } from 'vitest';
import { GIT_PROTECTED_NAMES, gitProtectedNames, PROTECTED_FILES, SETTINGS_FILES } from '../src/protected-names.js';

describe('protected names', () => {
  it('protects git config only when the policy does not allow it, and every git indirection always', () => {
    expect(gitProtectedNames(false)).toEqual([...GIT_PROTECTED_NAMES, 'config.worktree', 'config']);
    // Both files are git config: allowGitConfig frees both.
    expect(gitProtectedNames(true)).toEqual([...GIT_PROTECTED_NAMES]);
    for (const n of ['hooks', 'info', 'commondir', 'gitdir']) expect(gitProtectedNames(true)).toContain(n);
  });

  it('protects every settings name that discovery reads', () => {
    for (const n of SETTINGS_FILES) expect(PROTECTED_FILES).toContain(n);
  });
});
