import { randomUUID } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KlaxonError } from '#core/errors';

/**
 * One local runtime per data folder. dynalite's LevelDB takes its own lock, but it fails inside a
 * dynalite callback, after the server has started, as an uncatchable "Database is closed"; so the
 * runtime takes this lock first: `<dir>/klaxon.pid`, holding the pid of the process that has it.
 */

const LOCK_FILE = 'klaxon.pid';

/** Another Klaxon (another process, or another runtime in this one) has the data folder. */
export class DataDirInUseError extends KlaxonError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(`another Klaxon (pid ${pid}) is using ${dir}; stop it or set KLAXON_DATA_DIR`);
  }
}

/** The pid holding `dir`'s lock, if that process is alive; undefined if there is no lock or a stale one. */
export async function lockHolder(dir: string): Promise<number | undefined> {
  const pid = await readPid(join(dir, LOCK_FILE));
  return pid !== undefined && isAlive(pid) ? pid : undefined;
}

/**
 * Takes `dir` (created if need be) for this process, or throws DataDirInUseError naming the holder
 * (`shown` is the folder as the user named it). A lock whose process is gone (killed, crashed) is
 * taken over. The lock file appears whole (linked from a file already written), so a reader never
 * sees it empty; of two processes starting at once, one gets it. Resolves to the release.
 */
export async function lockDataDir(dir: string, shown = dir): Promise<() => Promise<void>> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  // Unique per attempt: two runtimes of one process may start at once (and must not share it).
  const mine = `${path}.${process.pid}.${randomUUID()}`;
  await writeFile(mine, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(mine, path);
        return async () => {
          if ((await readPid(path)) === process.pid) await unlink(path).catch(() => {});
        };
      } catch (error) {
        if (errorCode(error) !== 'EEXIST') throw error;
      }
      const pid = await readPid(path);
      if (pid !== undefined && isAlive(pid)) throw new DataDirInUseError(shown, pid);
      await takeOver(path, pid);
    }
    throw new KlaxonError(`cannot lock ${shown}: its ${LOCK_FILE} keeps changing`);
  } finally {
    await unlink(mine).catch(() => {});
  }
}

/**
 * Moves a stale lock (of `stalePid`) aside. Should another process have taken it over in the
 * meantime, what was moved is that one's live lock: it goes back, and the next attempt sees it.
 */
async function takeOver(path: string, stalePid: number | undefined): Promise<void> {
  const aside = `${path}.${process.pid}.${randomUUID()}.stale`;
  try {
    await rename(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return; // someone else removed it
    throw error;
  }
  if ((await readPid(aside)) !== stalePid) await link(aside, path).catch(() => {});
  await unlink(aside).catch(() => {});
}

/** The pid in a lock file; undefined if there is none or it does not hold one (a stale lock). */
async function readPid(path: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(path, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Signal 0 tests for existence: EPERM means alive under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errorCode(error) === 'EPERM';
  }
}

const errorCode = (error: unknown) => (error as NodeJS.ErrnoException | undefined)?.code;
