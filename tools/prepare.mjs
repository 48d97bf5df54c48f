// Root `prepare` (runs at the end of `npm ci` / `npm install`): builds every package so that
// `npx fence` works right away, then says what the machine still lacks and how to install it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' };
const build = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--output-style=static'], { stdio: 'inherit', env });
if (build.status !== 0) process.exit(build.status ?? 1);

if (process.platform === 'linux') {
  const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
  const helper = existsSync(resolve(import.meta.dirname, '../native/fence-native/build/Release/fence-launch'));
  if (!has('bwrap')) {
    console.warn('fence: bubblewrap (bwrap) is not installed; Fence cannot run without it. Install it with: sudo apt install bubblewrap');
  }
  if (!helper) {
    console.warn('fence: the native helper was not built (no C compiler or cmake?); Landlock and limits are off and network policies are refused.');
    console.warn('      Install a compiler and cmake (sudo apt install g++ cmake), then run: npm rebuild @fence/native');
  }
}
