/** `geofailover worker [--probe-region R]`: the main worker, or a probe worker for one application region. */
import path from 'node:path';
import type { Command } from 'commander';
import { probeTaskQueue } from '../../contract/names';
import type * as WorkerModule from '../../worker';
import { describeTarget } from '../../temporal/connection';
import { temporalRefusal, type CliContext } from '../context';
import { EXIT_OK } from '../errors';
import { loadCliConfig } from '../resolve';
import { globalOptions, text } from './shared';

interface WorkerOptions {
  probeRegion?: string;
}

async function worker(ctx: CliContext, command: Command, opts: WorkerOptions): Promise<number> {
  const { config, taskQueue } = globalOptions(command);
  const loaded = loadCliConfig(config);
  // Resolved here with the command line's flags, so bad settings are refused before the worker loads.
  const temporal = ctx.temporalSettings();
  // Loaded here: the worker pulls in the SDK's native runtime and the Azure clients, which the other
  // commands do not need.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { runWorker } = require('../../worker') as typeof WorkerModule;
  await runWorker({
    config: loaded.config,
    configDir: path.dirname(loaded.file),
    temporal,
    ...(opts.probeRegion ? { probeRegion: opts.probeRegion } : { taskQueue }),
    onReady: (info) =>
      ctx.io.stderr(
        `${info.kind === 'probe' ? `probe worker for ${opts.probeRegion}` : 'worker'}: polling task queue ` +
          `${info.taskQueue} at ${describeTarget(temporal)}; Ctrl-C stops it\n`,
      ),
  }).catch((e: unknown) => {
    throw temporalRefusal(e);
  });
  ctx.io.stderr('worker stopped\n');
  return EXIT_OK;
}

export function registerWorker(program: Command, ctx: CliContext): void {
  program
    .command('worker')
    .summary('run the main worker, or a probe worker for one application region')
    .description(
      'Run the main worker (task queue geofailover: every workflow and the Azure and data-plane activities) ' +
        `or, with --probe-region R, a probe worker in application region R (task queue ${probeTaskQueue('R')}), ` +
        'which probes the databases through that region’s private endpoints. Runs until SIGINT/SIGTERM.',
    )
    .option('--probe-region <region>', 'run a probe worker for this application region', text('--probe-region'))
    .addHelpText('after', '\nExamples:\n  geofailover worker\n  geofailover worker --probe-region westeurope')
    .action(async (opts: WorkerOptions, command: Command) => ctx.run(false, () => worker(ctx, command, opts)));
}
