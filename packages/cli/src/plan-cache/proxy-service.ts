/**
 * The shared proxy service for runs the plan cache may replay (plugins/proxy/src/service*.ts):
 * where its sockets live and how it is started. Its directory is beside the plan cache, in
 * Fence's cache directory, which every sandbox binds read-only and whose `proxy` directory every
 * sandbox hides (bwrap gather.ts).
 */
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ProxyServiceOptions } from '@fence/core';
import { PROXY_SERVICES } from '@fence/plugin-bwrap';
import { VERSION } from '../version.js';

/** The hidden argument that makes `fence` the service (main.ts). */
export const PROXY_SERVICE_ARG = '--internal-proxy-service';

/** The service options for a run whose plan cache directory is `planDir`. */
export function proxyService(planDir: string): ProxyServiceOptions {
  const bundle = process.argv[1] ?? '';
  // Fence's build: its version, the bundle and Node as they are on disk now.
  const build = [VERSION, ...[bundle, process.execPath].map((f) => {
    try {
      const st = statSync(f);
      return `${f}:${st.ino}:${st.size}:${st.mtimeMs}`;
    } catch {
      return f;
    }
  })].join('\n');
  return { root: join(dirname(planDir), PROXY_SERVICES), command: [process.execPath, bundle, PROXY_SERVICE_ARG], build };
}
