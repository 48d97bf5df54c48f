import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fence, own, workspace, type Workspace } from '../src/fence.js';

describe('fence with bad settings', () => {
  let ws: Workspace;
  afterEach(() => ws.cleanup());

  const withSettings = (name: string, text: string) => {
    ws = workspace('root');
    const file = join(ws.dir, name);
    writeFileSync(file, text);
    own(ws, file);
    return file;
  };

  it('rejects a top-level wildcard domain, naming the field and why', async () => {
    withSettings('fence.json', '{"network":{"allowedDomains":["*.com"]}}');
    const r = await fence(ws, ['--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^fence: /);
    expect(r.stderr).toContain('network.allowedDomains[0]');
    expect(r.stderr).toMatch(/top-level domain/);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace without -d
  });

  it('names an unknown key', async () => {
    withSettings('fence.json', '{"network":{"allowedDomian":["x.com"]}}');
    const r = await fence(ws, ['--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('allowedDomian');
  });

  it('loads JSONC with comments and trailing commas', async () => {
    withSettings('fence.jsonc', '{\n // comment\n "filesystem": { "allowWrite": ["."], }, /* block */\n}\n');
    const r = await fence(ws, ['config', 'show']);
    expect(r.status).toBe(0);
    const shown = JSON.parse(r.stdout);
    expect(shown.policy.filesystem.allowWrite).toEqual([ws.dir]);
    expect(JSON.stringify(shown.sources)).toContain('fence.jsonc');
  });

  it('fails on a missing explicit settings file and creates nothing', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['-s', 'nope.json', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('nope.json');
    expect(readdirSync(ws.dir)).toEqual([]);
    expect(existsSync(join(ws.dir, 'nope.json'))).toBe(false);
  });

  it('rejects a bad port with the value', async () => {
    ws = workspace('root');
    const r = await fence(ws, ['-p', '70000', '--', 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('70000');
  });

  it('prints the version and the JSON Schema', async () => {
    ws = workspace('root');
    const v = await fence(ws, ['--version']);
    expect(v.stdout).toMatch(/^fence \d+\.\d+\.\d+\n$/);
    const s = await fence(ws, ['config', 'schema']);
    expect(s.status).toBe(0);
    const schema = JSON.parse(s.stdout);
    expect(JSON.stringify(schema)).toContain('allowedDomains');
  });
});
