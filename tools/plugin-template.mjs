// The files of a new plugin package (new-plugin.mjs writes them). `standalone`: a third-party
// package built outside this repository (fence-plugin-<name>); else plugins/<name> in it.
const json = (value) => JSON.stringify(value, null, 2);

/** Package name of the generated plugin. */
const pluginPackageName = (name, standalone) => (standalone ? `fence-plugin-${name}` : `@fence/plugin-${name}`);

const source = (name, camel) => `/**
 * ${name}: a Fence layer. Replace this with what it stops and how (see docs/hooks.md: the hooks,
 * their kinds and stages).
 */
import { definePlugin, PrepareStage, Tokens } from '@fence/core';

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
`;

const readme = (pkg, name) => `# ${pkg}

A Fence layer: ${name}. Describe here what it stops, what it needs from the machine (what
\`detect()\` looks for, and what happens when it is missing), and its options.

Fence loads it by package name, from the \`plugins\` list of a settings file or on the command line:

\`\`\`sh
fence --plugin ${pkg} -d -- true     # -d prints "[${name}] plan has N wrapper(s)"
\`\`\`

The plugin contract and every hook are in Fence's docs/hooks.md.
`;

const inRepo = (name, camel, version) => ({
  'package.json': json({
    name: `@fence/plugin-${name}`,
    version,
    description: `Fence ${name} layer`,
    type: 'module',
    license: 'MIT',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    scripts: { build: 'tsc -b tsconfig.lib.json', test: 'vitest run' },
    dependencies: { '@fence/core': version },
  }),
  'tsconfig.json': '{ "files": [], "references": [{ "path": "./tsconfig.lib.json" }, { "path": "./tsconfig.spec.json" }] }\n',
  'tsconfig.lib.json': json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/.tsbuildinfo' },
    include: ['src'],
    references: [{ path: '../../packages/core/tsconfig.lib.json' }],
  }),
  'tsconfig.spec.json': json({
    extends: '../../tsconfig.base.json',
    compilerOptions: { noEmit: true, composite: false, declaration: false, declarationMap: false },
    include: ['test', 'src'],
    references: [{ path: './tsconfig.lib.json' }],
  }),
  'vitest.config.ts': "import { defineConfig } from 'vitest/config';\nexport default defineConfig({ test: { include: ['test/**/*.test.ts'] } });\n",
  'test/index.test.ts': `import { describe, expect, it } from 'vitest';
import { ${camel}Plugin } from '../src/index.js';

describe('${camel}Plugin', () => {
  it('is available', async () => {
    expect((await ${camel}Plugin.detect()).status).toBe('available');
  });
});
`,
});

// Outside the monorepo: its own compiler settings, @fence/core as a peer (the host's copy is
// used; its tokens are Symbol.for names, so another copy would work too), tests with node:test.
const standalonePackage = (name, version) => ({
  'package.json': json({
    name: `fence-plugin-${name}`,
    version: '0.1.0',
    description: `A Fence layer: ${name}`,
    type: 'module',
    license: 'MIT',
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    files: ['dist'],
    scripts: { build: 'tsc', test: 'npm run build && node --test test/' },
    peerDependencies: { '@fence/core': `^${version}` },
    devDependencies: { '@fence/core': version, typescript: '5.9.3' },
  }),
  'tsconfig.json': json({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      declaration: true,
      skipLibCheck: true,
      types: [],
      rootDir: 'src',
      outDir: 'dist',
    },
    include: ['src'],
  }),
});

const standaloneTest = (name, camel) => ({
  'test/index.test.mjs': `import assert from 'node:assert/strict';
import { it } from 'node:test';
import ${camel}Plugin from '../dist/index.js';

it('${name} is available', async () => {
  assert.equal((await ${camel}Plugin.detect()).status, 'available');
});
`,
});

/** Relative path → text of every file of the new package. */
export function pluginFiles(name, { version, standalone }) {
  const camel = name.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  return {
    ...(standalone ? { ...standalonePackage(name, version), ...standaloneTest(name, camel) } : inRepo(name, camel, version)),
    'src/index.ts': source(name, camel),
    'README.md': readme(pluginPackageName(name, standalone), name),
  };
}
