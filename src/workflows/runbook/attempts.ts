// How a step's summary says that an activity found its change already made. When that was not its first attempt,
// the attempt before it (whose worker died after sending the request) has likely made it: the summary says so
// rather than "nothing was called", which would hide a change this run did make.

/** "was already disabled", or "was disabled when attempt 2 checked (…)". */
export function alreadyDone(state: string, foundAtAttempt: number | undefined): string {
  if (foundAtAttempt === undefined) return `was already ${state}`;
  return (
    `was ${state} when attempt ${foundAtAttempt} checked (the interrupted attempt ${foundAtAttempt - 1} ` +
    'had likely made the change)'
  );
}
