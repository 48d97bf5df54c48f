import { describe, expect, it } from 'vitest';
import { mergeLayers, policySources } from '../../src/settings/merge.js';
import { SettingsSchema } from '../../src/settings/schema.js';

describe('mergeLayers', () => {
  const { settings, origins } = mergeLayers([
    { from: 'template:npm-install', settings: { network: { allowedDomains: ['a.com', 'b.com'], allowLocalBinding: true, httpProxyPort: 8080 } } },
    { from: '/p/fence.json', settings: { network: { allowedDomains: ['b.com', 'c.com'], allowLocalBinding: false, socksProxyPort: 9050 }, plugins: ['x'] } },
  ]);

  it('concatenates lists and drops duplicates', () => {
    expect(settings.network?.allowedDomains).toEqual(['a.com', 'b.com', 'c.com']);
  });

  it('ORs booleans, so a child cannot switch off what its parent allowed', () => {
    expect(settings.network?.allowLocalBinding).toBe(true);
  });

  it('keeps a parent scalar the child does not set', () => {
    expect(settings.network?.httpProxyPort).toBe(8080);
    expect(settings.network?.socksProxyPort).toBe(9050);
  });

  it('records the origin of each list element and value, and default for the rest', () => {
    const sources = policySources(SettingsSchema.parse(settings), origins);
    const from = (field: string) => sources.find((s) => s.field === field)?.from;
    expect(from('network.allowedDomains[0]')).toBe('template:npm-install');
    expect(from('network.allowedDomains[2]')).toBe('/p/fence.json');
    expect(from('network.allowLocalBinding')).toBe('template:npm-install');
    expect(from('network.socksProxyPort')).toBe('/p/fence.json');
    expect(from('limits.memoryMB')).toBe('default');
    expect(from('filesystem.allowWrite')).toBe('default');
    expect(from('plugins[0]')).toBe('/p/fence.json');
  });

  it('lets a child scalar override its parent', () => {
    const merged = mergeLayers([
      { from: 'a', settings: { limits: { processes: 10 } } },
      { from: 'b', settings: { limits: { processes: 20 } } },
    ]);
    expect(merged.settings.limits?.processes).toBe(20);
  });

  it('never modifies the layers it merges', () => {
    const parent = { network: { allowedDomains: ['a.com'] } };
    mergeLayers([{ from: 'a', settings: parent }, { from: 'b', settings: { network: { allowedDomains: ['b.com'] } } }]);
    expect(parent.network.allowedDomains).toEqual(['a.com']);
  });
});
