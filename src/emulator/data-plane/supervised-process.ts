import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { guardProcessGroup } from './orphan-guard';

/**
 * Runs "$0 $@" under a POSIX shell that supervises it:
 * - the shell leads a new process group and keeps a pipe from this Node process on fd 3; a background `read`
 *   on it returns only when every writer is gone, i.e. when this process died (even by SIGKILL), and then
 *   SIGKILLs the whole group, so no server outlives us;
 * - SIGTERM to the shell SIGKILLs the server and reaps it, so every process is reaped by its own parent
 *   (a group-wide SIGKILL would hand zombies to init, which not every container runs);
 * - the trap runs between commands, so `stopped` covers a SIGTERM that lands before `server` is set.
 */
const SUPERVISOR_SCRIPT = [
  'trap \'stopped=1; [ -n "$server" ] && kill -KILL "$server" 2>/dev/null\' TERM',
  'exec 3<&0 0</dev/null',
  '"$0" "$@" 3<&- &',
  'server=$!',
  '[ -n "$stopped" ] && kill -KILL "$server" 2>/dev/null',
  '{ read _ <&3; kill -KILL 0; } &',
  'watchdog=$!',
  'exec 3<&-',
  'wait "$server"',
  'status=$?',
  // After a trap interrupted the first wait, this one reaps the killed server; otherwise it returns at once.
  'wait "$server" 2>/dev/null',
  'kill "$watchdog" 2>/dev/null',
  'wait "$watchdog" 2>/dev/null',
  'exit "$status"',
].join('\n');

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface SupervisedProcess {
  /** Id of the process group (the supervising shell's pid). */
  readonly groupId: number;
  /** Settles (never rejects) when the supervising shell, and so the command, is gone. */
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /**
   * Kills the command (SIGKILL through its supervisor, nothing saved) and waits for the supervisor to exit;
   * after `graceInMs` the whole group is SIGKILLed instead.
   */
  terminate(graceInMs?: number): Promise<ProcessExit>;
}

/**
 * Starts `command args` supervised, its stdout and stderr appended to `logFile`. Synchronous so that the
 * orphan guard covers the group before anything else can run. Throws when no process could be created.
 */
export function spawnSupervised(
  command: string,
  args: string[],
  options: { cwd: string; logFile: string },
): SupervisedProcess {
  const log = openSync(options.logFile, 'a', 0o600);
  let child;
  try {
    child = spawn('/bin/sh', ['-c', SUPERVISOR_SCRIPT, command, ...args], {
      cwd: options.cwd,
      detached: true,
      stdio: ['pipe', log, log],
    });
  } finally {
    // The child holds its own copy of the descriptor.
    closeSync(log);
  }
  const groupId = child.pid;
  if (groupId === undefined) {
    child.once('error', () => undefined);
    throw new Error(`could not start /bin/sh to supervise ${command}`);
  }
  const release = guardProcessGroup(groupId);
  let exited = false;
  const exitedPromise = new Promise<ProcessExit>((resolve) => {
    const settle = (exit: ProcessExit): void => {
      if (exited) return;
      exited = true;
      release();
      resolve(exit);
    };
    child.once('error', (error) => settle({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => settle({ code, signal }));
  });
  // Nothing is ever written; the pipe only has to stay open. EPIPE once the shell is gone is expected.
  child.stdin?.on('error', () => undefined);
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-groupId, signal);
    } catch {
      // The group is empty.
    }
  };
  return {
    groupId,
    exited: exitedPromise,
    hasExited: () => exited,
    async terminate(graceInMs = 3_000) {
      if (!exited) child.kill('SIGTERM');
      if (!(await settlesWithin(exitedPromise, graceInMs))) signalGroup('SIGKILL');
      const exit = await exitedPromise;
      // A shell that ran to its end reaped everything; one killed by a signal may have left its server behind.
      if (exit.signal !== null) signalGroup('SIGKILL');
      return exit;
    },
  };
}

/** Whether `promise` settles within `timeoutInMs`; leaves no timer behind. */
export async function settlesWithin(promise: Promise<unknown>, timeoutInMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutInMs);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
