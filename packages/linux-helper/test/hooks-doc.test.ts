/** docs/hooks.md lists the helper session's hooks as they are declared (see core's hooks-doc test). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHelperHooks } from '../src/index.js';

const text = readFileSync(path.join(import.meta.dirname, '../../../docs/hooks.md'), 'utf8');

describe('docs/hooks.md', () => {
  it('lists every hook of the helper session with its kind, and no other', () => {
    const section = text.split(/^## /m).find((s) => s.startsWith('Hooks and services of other packages'))!;
    const documented = [...section.matchAll(/^\| `hooks\.([^`]+)` \| (\w+)/gm)].map((m) => [m[1], m[2]]);
    expect(documented).toEqual(Object.entries(createHelperHooks()).map(([name, hook]) => [name, hook.constructor.name]));
  });
});
