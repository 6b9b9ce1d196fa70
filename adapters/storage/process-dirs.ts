import { hostname } from 'node:os';

/**
 * Writes in progress live in a directory per process, `<host>-<pid>`, so that what a killed
 * process left behind can be told from a live one's and removed at the next start.
 */
const hostTag = () => hostname().replace(/[^A-Za-z0-9_-]/g, '_');

/** Told the names of the directories of writes left unfinished by dead processes, once removed. */
export type AbandonedReport = (removed: string[]) => void;

/** The directory name of this process's writes in progress. */
export const processDir = () => `${hostTag()}-${process.pid}`;

/** Whether `name` is the directory of a process of this host that is gone; undefined for another host's. */
export function deadProcessDir(name: string): boolean | undefined {
  const host = hostTag();
  const pid = name.startsWith(`${host}-`) ? Number(name.slice(host.length + 1)) : NaN;
  if (!Number.isInteger(pid)) return undefined;
  return pid !== process.pid && !alive(pid);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
