// Generates a new plugin package: `node tools/new-plugin.mjs <name>` → plugins/<name>.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const name = process.argv[2];
if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) {
  console.error('usage: node tools/new-plugin.mjs <name>   (lower-case letters, digits and dashes)');
  process.exit(1);
}
const dir = join('plugins', name);
if (existsSync(dir)) {
  console.error(`new-plugin: ${dir} already exists; choose another name`);
  process.exit(1);
}
const camel = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
const files = {
  'package.json': JSON.stringify(
    {
      name: `@fence/plugin-${name}`,
      version: '0.1.0',
      type: 'module',
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
      files: ['dist'],
      scripts: { build: 'tsc -b tsconfig.lib.json', test: 'vitest run' },
      dependencies: { '@fence/core': '0.1.0' },
    },
    null,
    2,
  ),
  'tsconfig.json': '{ "files": [], "references": [{ "path": "./tsconfig.lib.json" }, { "path": "./tsconfig.spec.json" }] }\n',
  'tsconfig.lib.json': JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
      include: ['src'],
      references: [{ path: '../../packages/core/tsconfig.lib.json' }],
    },
    null,
    2,
  ),
  'tsconfig.spec.json': JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false },
      include: ['test', 'src'],
      references: [{ path: './tsconfig.lib.json' }],
    },
    null,
    2,
  ),
  'vitest.config.ts': "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['test/**/*.test.ts'] } });\n",
  'src/index.ts': `import { definePlugin, PrepareStage, Tokens } from '@fence/core';

/** ${name}: describe what this layer stops. */
export const ${camel}Plugin = definePlugin({
  name: '${name}',
  platforms: ['linux'],
  provides: [],
  async detect() {
    return { status: 'available', summary: '${name}' };
  },
  apply(kernel) {
    const log = kernel.resolve(Tokens.Logger);
    kernel.hooks.prepare.tapPromise({ name: '${name}', stage: PrepareStage.REPORT }, async (plan) => {
      log.debug('${name}', \`plan has \${plan.wrappers.length} wrapper(s)\`);
    });
  },
});

export default ${camel}Plugin;
`,
  'test/index.test.ts': `import { describe, expect, it } from 'vitest';
import { ${camel}Plugin } from '../src/index.js';

describe('${camel}Plugin', () => {
  it('is available', async () => {
    expect((await ${camel}Plugin.detect({ platform: 'linux', strict: false })).status).toBe('available');
  });
});
`,
  'README.md': `# @fence/plugin-${name}\n\nWhat this layer does, its options, and what it stops.\n`,
};
for (const [file, text] of Object.entries(files)) {
  mkdirSync(join(dir, file, '..'), { recursive: true });
  writeFileSync(join(dir, file), text.endsWith('\n') ? text : `${text}\n`);
}
console.log(`created ${dir}; run npm install, then npx tsc -b ${dir}/tsconfig.lib.json`);
