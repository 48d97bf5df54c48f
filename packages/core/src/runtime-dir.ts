/**
 * A session's private host directory (0700) for Unix sockets and similar. It is created only when
 * a plugin asks for it, and removed at close. A watchdog (runner.ts) removes it when this process
 * is gone, so even SIGKILL of Fence leaves nothing behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWatchdog, type Watchdog } from './runner.js';

export class RuntimeDir {
  #path: string | undefined;
  #watchdog: Watchdog | undefined;

  get created(): boolean {
    return this.#path !== undefined;
  }

  path(): string {
    if (this.#path) return this.#path;
    const dir = mkdtempSync(join(tmpdir(), 'fence-'));
    this.#watchdog = startWatchdog('fence-cleanup', 'rm -rf -- "$1"', [dir]);
    this.#path = dir;
    return dir;
  }

  remove(): void {
    if (!this.#path) return;
    rmSync(this.#path, { recursive: true, force: true });
    this.#watchdog?.release();
    this.#path = undefined;
  }
}
