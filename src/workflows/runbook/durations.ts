// Moved to the contract (the CLI, the drill and the evidence report format durations the same way); kept here so
// the runbook's modules import it from beside them.
export { durationMs, formatMs } from '../../contract/durations';
