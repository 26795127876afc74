#!/usr/bin/env node
// `npm run tools`: makes sure the Temporal CLI (dev server) and redis-server are available, building or
// installing what is missing. Progress goes to stderr, one line per tool (a build says it happens once, where it is
// cached and how to skip it, and reports its elapsed time every 30 s); the tools' own output (apt-get, go) goes to the
// setup log (GEOFAILOVER_SETUP_LOG, else setup.log in the tool cache). The LAST line on stdout is
// {"temporal": PATH, "redisServer": PATH} (.ci/run reads it). Runs before `npm ci`, so it uses no npm packages.
import { ensureRedisServer, ensureTemporalCli, ToolError } from './tools.mjs';

const results = await Promise.allSettled([ensureTemporalCli(), ensureRedisServer()]);
const failures = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
if (failures.length > 0) {
  for (const error of failures) {
    process.stderr.write(`ensure-tools: ${error instanceof ToolError ? error.message : (error?.stack ?? error)}\n`);
  }
  process.exitCode = 1;
} else {
  const [temporal, redisServer] = results.map((r) => r.value.path);
  process.stdout.write(`${JSON.stringify({ temporal, redisServer })}\n`);
}
