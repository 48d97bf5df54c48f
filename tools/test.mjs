// `npm test`: builds, runs every vitest project and the native tests, then prints one plain line
// `N passed, N failed` (what CI reads). Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const run = (cmd, args, opts = {}) => spawnSync(cmd, args, { stdio: 'inherit', env, ...opts });

const build = run('npx', ['nx', 'run-many', '-t', 'build', '--output-style=static']);
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// vitest strips types without checking them: each project's tests are type-checked here (one
// failure per project whose tests do not compile), so they cannot drift from the code they test.
const specs = ['packages', 'plugins'].flatMap((root) => readdirSync(root).map((d) => `${root}/${d}/tsconfig.spec.json`)).filter((p) => existsSync(p));
const typeErrors = [...specs, 'e2e/tsconfig.json'].filter((project) => run('npx', ['tsc', '-p', project, '--noEmit']).status !== 0);
for (const project of typeErrors) console.log(`type errors in ${project}`);

const report = '.vitest.json';
rmSync(report, { force: true });
const vitest = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
let passed = 0;
let failed = typeErrors.length;
let skipped = 0;
if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  passed += r.numPassedTests;
  failed += r.numFailedTests;
  skipped += r.numPendingTests + (r.numTodoTests ?? 0);
  if (r.numTotalTestSuites > 0 && r.numFailedTestSuites > 0 && r.numFailedTests === 0) failed += r.numFailedTestSuites;
} else if (vitest.status !== 0) failed += 1;

// The native package uses node's own test runner (plain JS, no build step of its own).
const native = run('npm', ['test', '-w', '@fence/native', '--silent'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
process.stdout.write(native.stdout ?? '');
const count = (name) => Number((native.stdout ?? '').match(new RegExp(`^# ${name} (\\d+)`, 'm'))?.[1] ?? 0);
passed += count('pass');
failed += count('fail');
if (native.status !== 0 && count('fail') === 0) failed += 1;

console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 || vitest.status !== 0 ? 1 : 0);
