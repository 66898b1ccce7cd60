import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second in /proc/<pid>/stat (USER_HZ, 100 on Linux). */
const USER_HZ = 100;

/**
 * The fields of /proc/<pid>/stat after the command's name (the state first), which may hold
 * spaces and parentheses itself; null where it cannot be read (another OS, a process gone).
 */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/**
 * CPU seconds (user and system, all threads) a process of this machine has used so far, from
 * /proc (Linux only); null where it cannot be read (another OS, or a process elsewhere).
 */
export function cpuSeconds(pid: number): number | null {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / USER_HZ : null;
}

/**
 * The most resident memory a process of this machine has held so far, in MiB (VmHWM in
 * /proc/<pid>/status, Linux only); null where it cannot be read.
 */
export function peakRssMib(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Binds a process (all its threads) to one core with taskset, where there is one: answers
 * whether it did.
 */
export function pinToCore(pid: number, core: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * Binds a process's main thread to `core` and its other threads (V8's collector and compiler,
 * libuv's pool) to `helperCore`, with taskset: answers whether it did. A thread started later
 * takes the binding of the thread that starts it.
 */
export function pinMainThread(pid: number, core: number, helperCore: number): boolean {
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const to = tid === String(pid) ? core : helperCore;
      execFileSync('taskset', ['-p', '-c', String(to), tid], { stdio: 'ignore' });
    }
    return true;
  } catch {
    return false;
  }
}

/**
 * The processes `pid` started that still run (Linux only, from /proc): empty where /proc
 * cannot be read.
 */
export function childrenOf(pid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [];
  }
  return entries
    .filter((entry) => /^\d+$/.test(entry) && Number(statFields(entry)?.[1]) === pid)
    .map(Number);
}
