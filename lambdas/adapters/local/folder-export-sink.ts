import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ExportSink } from '#app/ports';
import { ValidationError } from '#core/errors';

/**
 * The local stand-in for the exports bucket: each key is a file under `root` (`/` in a key is a
 * folder). A put writes a temporary file in the target folder and renames it over the target, so
 * a reader sees the old file or the new one, never half of one. Keys with `..`, `.` or empty
 * segments, backslashes or absolute paths are rejected (`ValidationError`): nothing is written
 * outside `root`. The content type has no place on a file system; the extension carries it.
 * Retry contract: a put overwrites by key; a thrown error means "retry".
 */
export class FolderExportSink implements ExportSink {
  readonly #root: string;

  constructor(root: string) {
    this.#root = path.resolve(root);
  }

  async put(key: string, body: string, _contentType: string): Promise<void> {
    const file = this.#fileFor(key);
    const folder = path.dirname(file);
    await mkdir(folder, { recursive: true });
    const temp = path.join(folder, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(body, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  #fileFor(key: string): string {
    const reject = (message: string) =>
      new ValidationError(`invalid export key "${key}": ${message}`, [{ field: 'key', message }]);
    if (key === '') throw reject('empty');
    if (key.startsWith('/') || path.isAbsolute(key) || path.win32.isAbsolute(key))
      throw reject('absolute path');
    if (key.includes('\\') || key.includes('\0')) throw reject('backslash or NUL');
    const segments = key.split('/');
    if (segments.some((s) => s === '' || s === '.' || s === '..')) throw reject('empty, "." or ".." segment');
    const file = path.resolve(this.#root, ...segments);
    if (!file.startsWith(this.#root + path.sep)) throw reject('outside the export folder');
    return file;
  }
}
