/**
 * The demo's `--report FILE`, written atomically: the page goes to a temporary file in the same
 * folder (so that the rename stays on one file system), which is renamed over FILE once complete.
 * A run that fails while rendering or writing leaves FILE as it was, never empty or cut short.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** A report about to be written; see {@link openReportFile}. */
export interface ReportFile {
  /** Renders the page, writes it whole, then puts it at the report's path. */
  write(render: () => string): Promise<void>;
  /** Removes the temporary file, if it is still there. Safe to call after `write`, and twice. */
  discard(): Promise<void>;
}

/**
 * Creates the temporary file now, before the run, so that a folder that cannot be written fails
 * at once rather than after the run.
 */
export async function openReportFile(path: string): Promise<ReportFile> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temporary, 'wx');
  } catch (error) {
    // Node's message names the file it tried, the temporary one; the user knows the report's path.
    const reason = (error as Error).message.split(temporary).join(path);
    throw new Error(`Cannot write the report to ${path}: ${reason}`, { cause: error });
  }
  let done = false;
  const discard = async () => {
    const h = handle;
    handle = undefined;
    await h?.close();
    if (!done) await rm(temporary, { force: true });
  };
  return {
    async write(render) {
      try {
        const h = handle!;
        await h.writeFile(render());
        await h.sync();
        handle = undefined;
        await h.close();
        await rename(temporary, path);
        done = true;
      } finally {
        if (!done) await discard();
      }
    },
    discard,
  };
}
