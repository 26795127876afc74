/**
 * Records the replay-test histories in test/replay/histories/: runs each scenario of
 * test/helpers/history-scenarios.ts (the real workflows with the e2e fakes as activities) on a Temporal
 * dev server and writes its history as JSON (historyToJSON: the shape of `temporal workflow show -o json`).
 * The short outage is also exported with the plain Temporal CLI, so both shapes stay covered. An incident that
 * continued as new is written run by run: SCENARIO.run-1.json (the first run) … SCENARIO.run-N.json (the last).
 *
 *   TEMPORAL_ADDRESS=127.0.0.1:7233 npx tsx scripts/record-histories.ts [--out DIR] [SCENARIO ...]
 *
 * --out writes somewhere else than test/replay/histories, to try scenarios without touching the stored files;
 * `GEOFAILOVER_REPLAY_HISTORIES=DIR npx mocha test/replay/replay.test.ts` checks them. Never re-record to make a
 * failing replay test pass (README, "Changing the workflow code").
 *
 * Use a dev server of your own (`temporal server start-dev` with the search attributes FailoverGroup,
 * FailedRegion and RunbookPhase as Keyword): the scenarios poll the probe task queues
 * geofailover-probe-{eastus,westeurope,southeastasia}, so no drill may run on the same server.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { runScenario, SCENARIO_NAMES, type ScenarioName } from '../test/helpers/history-scenarios';

export const HISTORY_DIR = path.resolve(__dirname, '../test/replay/histories');
/** Failure stack traces name the clone's absolute path; stored histories keep it repo-relative (replay ignores them). */
function withoutMachinePaths(json: string): string {
  return json.split(`${path.resolve(__dirname, '..')}/`).join('./');
}

/** The scenario also exported with `temporal workflow show -o json`. */
const CLI_EXPORTED: ScenarioName = 'short-outage';
const REGIONS = ['eastus', 'westeurope', 'southeastasia'] as const;

const log = (line: string): void => void process.stderr.write(`${line}\n`);

async function exportWithTemporalCli(
  address: string,
  namespace: string,
  workflowId: string,
  runId: string,
): Promise<string> {
  const tools = await import('./tools.mjs');
  const cli = await tools.ensureTemporalCli({ log });
  const { stdout } = await promisify(execFile)(
    cli.path,
    [
      'workflow',
      'show',
      '--workflow-id',
      workflowId,
      '--run-id',
      runId,
      '--output',
      'json',
      '--address',
      address,
      '--namespace',
      namespace,
      '--disable-config-file',
      '--disable-config-env',
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return stdout;
}

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS ?? process.env.TEMPORAL_TEST_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  if (!address) {
    throw new Error(
      'set TEMPORAL_ADDRESS (or TEMPORAL_TEST_ADDRESS) to a dev server of your own, e.g. ' +
        '`temporal server start-dev --search-attribute FailoverGroup=Keyword --search-attribute FailedRegion=Keyword ' +
        '--search-attribute RunbookPhase=Keyword` and TEMPORAL_ADDRESS=127.0.0.1:7233',
    );
  }
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  const out = outAt >= 0 ? path.resolve(args[outAt + 1] ?? '') : HISTORY_DIR;
  if (outAt >= 0) args.splice(outAt, 2);
  const wanted = args;
  const unknown = wanted.filter((w) => !(SCENARIO_NAMES as readonly string[]).includes(w));
  if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIO_NAMES.join(', ')}`);
  const scenarios = (wanted.length ? wanted : SCENARIO_NAMES) as ScenarioName[];
  mkdirSync(out, { recursive: true });

  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    logger: new DefaultLogger('WARN'),
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  try {
    for (const scenario of scenarios) {
      const startedAt = performance.now();
      const run = await runScenario(scenario, {
        nativeConnection,
        connection,
        namespace,
        bundle,
        regions: REGIONS,
        groupName: 'leaderboard',
      });
      // A scenario's files are its own: a chain recorded shorter than before leaves no stale run behind.
      for (const f of readdirSync(out)) {
        if (f === `${scenario}.json` || new RegExp(`^${scenario}\\.run-\\d+\\.json$`).test(f)) {
          rmSync(path.join(out, f));
        }
      }
      const files = run.runs.map((_, i) =>
        path.join(out, run.runs.length === 1 ? `${scenario}.json` : `${scenario}.run-${i + 1}.json`),
      );
      run.runs.forEach((r, i) => writeFileSync(files[i]!, `${withoutMachinePaths(historyToJSON(r.history))}\n`));
      const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
      const events = run.runs.map((r) => r.history.events?.length ?? 0).join(' + ');
      log(
        `${scenario}: ${run.workflowType} ${run.workflowId} ${run.result.outcome}, ${run.runs.length} run(s), ` +
          `${events} events, ${seconds} s → ${files.map((f) => path.relative(process.cwd(), f)).join(', ')}`,
      );
      if (scenario === CLI_EXPORTED) {
        const cliFile = path.join(out, `${scenario}.temporal-cli.json`);
        writeFileSync(
          cliFile,
          withoutMachinePaths(await exportWithTemporalCli(address, namespace, run.workflowId, run.runId)),
        );
        log(
          `${scenario}: also exported with \`temporal workflow show -o json\` → ${path.relative(process.cwd(), cliFile)}`,
        );
      }
    }
  } finally {
    await connection.close();
    await nativeConnection.close();
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    log(`record-histories: ${(e as Error)?.stack ?? String(e)}`);
    process.exitCode = 1;
  });
}
