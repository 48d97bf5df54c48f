// Root `prepare`: runs after `npm ci`/`npm install`; builds every package so `npx fence` works.
import { spawnSync } from 'node:child_process';
const r = spawnSync('npx', ['nx', 'run-many', '-t', 'build', '--output-style=static'], {
  stdio: 'inherit',
  env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false' },
});
process.exit(r.status ?? 1);
