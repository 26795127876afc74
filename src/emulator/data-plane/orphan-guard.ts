/**
 * Process groups of running children, SIGKILLed when this Node process exits. An `exit` handler only runs on
 * a normal exit (including process.exit()); the supervisor's watchdog covers the rest.
 */
const guardedGroups = new Set<number>();
let installed = false;

function killGuardedGroups(): void {
  for (const group of guardedGroups) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  guardedGroups.clear();
}

/** Kill process group `group` if this process exits first; returns the function that lifts the guard. */
export function guardProcessGroup(group: number): () => void {
  if (!installed) {
    installed = true;
    process.on('exit', killGuardedGroups);
  }
  guardedGroups.add(group);
  return () => {
    guardedGroups.delete(group);
  };
}
