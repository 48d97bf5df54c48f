/**
 * A session's private host directory (0700) for Unix sockets and similar. It is created only when
 * a plugin asks for it, and removed at close. A detached watchdog holds a pipe from this process
 * and removes the directory when the pipe closes, so even SIGKILL of Fence leaves nothing behind.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RuntimeDir {
  #path: string | undefined;
  #watchdog: ReturnType<typeof spawn> | undefined;

  get created(): boolean {
    return this.#path !== undefined;
  }

  path(): string {
    if (this.#path) return this.#path;
    const dir = mkdtempSync(join(tmpdir(), 'fence-'));
    // The watchdog reads until EOF (this process gone, however it died), then removes the directory.
    this.#watchdog = spawn('/bin/sh', ['-c', 'cat >/dev/null; rm -rf -- "$1"', 'fence-cleanup', dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
      detached: true,
    });
    this.#watchdog.on('error', () => undefined);
    this.#watchdog.stdin?.on('error', () => undefined);
    this.#watchdog.unref();
    (this.#watchdog.stdin as unknown as { unref?: () => void })?.unref?.();
    this.#path = dir;
    return dir;
  }

  remove(): void {
    if (!this.#path) return;
    rmSync(this.#path, { recursive: true, force: true });
    this.#watchdog?.stdin?.end();
    this.#path = undefined;
  }
}
