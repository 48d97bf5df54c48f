import { describe, expect, it } from 'vitest';
import { FenceError } from '../../src/errors.js';
import { parseSettingsText } from '../../src/settings/jsonc.js';

function parseError(text: string): FenceError {
  try {
    parseSettingsText(text, '/p/fence.json');
  } catch (e) {
    return e as FenceError;
  }
  throw new Error('expected a parse error');
}

describe('parseSettingsText', () => {
  it('accepts line and block comments and trailing commas', () => {
    const text = `// settings\n{\n  /* network */ "network": { "allowedDomains": ["github.com",], },\n}\n`;
    expect(parseSettingsText(text, 'f')).toEqual({ network: { allowedDomains: ['github.com'] } });
  });

  it('ignores a byte order mark', () => {
    expect(parseSettingsText('\ufeff{"plugins": []}', 'f')).toEqual({ plugins: [] });
  });

  it('reports file:line:col and the reason', () => {
    const error = parseError('{\n  "network": {\n    "allowedDomains" ["x"]\n  }\n}');
    expect(error.code).toBe('SETTINGS_PARSE');
    expect(error.message).toBe('/p/fence.json:3:22: expected ":" after the property name');
  });

  it('reports an unterminated string', () => {
    expect(parseError('{"a": "b}').message).toMatch(/^\/p\/fence.json:1:7: unterminated string/);
  });

  it('refuses an empty file with a hint', () => {
    expect(parseError('  // nothing\n').message).toBe('/p/fence.json:1:1: the file is empty; write {} for the default policy');
  });

  it('refuses a key given twice', () => {
    expect(parseError('{"plugins": [],\n "plugins": []}').message).toBe('/p/fence.json:2:2: duplicate key "plugins"');
  });

  it('keeps "__proto__" as an own key instead of changing the prototype', () => {
    const value = parseSettingsText('{"__proto__": {"network": {}}}', 'f') as object;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.keys(value)).toEqual(['__proto__']);
  });
});
