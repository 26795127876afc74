// Errors whose codes are part of the CLI's `--json` contract (`error.code`), thrown below the CLI too (the
// configuration's groups, the drill).

/**
 * Thrown when the input or the current state does not allow the operation (unknown group, a region that
 * is not a member, an incident already open, no open runbook, a refused decision). Nothing was changed.
 * Exit code 1.
 */
export class RefusedError extends Error {
  override name = 'RefusedError';
  constructor(
    message: string,
    readonly hint?: string,
    /** a stable machine-readable code for `--json` consumers */
    readonly code = 'refused',
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}
