/**
 * Everything the drill started, stopped in reverse order exactly once — at the end, on failure, and on
 * Ctrl-C/SIGTERM — each stop bounded in time so that one stuck part cannot keep the others running.
 */
const DEFAULT_STOP_TIMEOUT_MS = 15_000;

interface Entry {
  name: string;
  stop: () => Promise<void>;
  /** the synchronous last resort, for a second Ctrl-C or process exit */
  kill?: () => void;
}

export class Teardown {
  private readonly entries: Entry[] = [];
  /** every entry ever added, for killNow while run() is under way */
  private readonly all: Entry[] = [];
  private running?: Promise<string[]>;

  /** Registers something that was just started; `kill` is its synchronous last resort, if it has one. */
  add(name: string, stop: () => Promise<void>, kill?: () => void): void {
    const entry = { name, stop, ...(kill ? { kill } : {}) };
    this.entries.push(entry);
    this.all.push(entry);
  }

  /** Stops everything, newest first; resolves with one line per stop that failed or timed out. */
  run(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<string[]> {
    this.running ??= (async () => {
      const problems: string[] = [];
      for (const entry of this.entries.splice(0).reverse()) {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), timeoutMs);
        });
        try {
          const outcome = await Promise.race([entry.stop().then(() => 'stopped' as const), timeout]);
          if (outcome === 'timeout') {
            problems.push(`${entry.name}: did not stop within ${timeoutMs / 1000} s`);
            entry.kill?.();
          }
        } catch (e) {
          problems.push(`${entry.name}: ${(e as Error)?.message ?? String(e)}`);
          entry.kill?.();
        } finally {
          clearTimeout(timer);
        }
      }
      return problems;
    })();
    return this.running;
  }

  /** Synchronously kills what can be killed (a second Ctrl-C); the rest goes with the process. */
  killNow(): void {
    for (const entry of [...this.all].reverse()) entry.kill?.();
  }
}
