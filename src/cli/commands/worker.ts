/** `geofailover worker [--probe-region R]`: the main worker, or a probe worker for one application region. */
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { probeTaskQueue } from '../../contract/names';
import type * as WorkerModule from '../../worker';
import { describeTarget } from '../../temporal/connection';
import { temporalRefusal, type CliContext } from '../context';
import { EXIT_OK } from '../errors';
import { loadCliConfig } from '../resolve';
import { globalOptions, text } from './shared';

interface WorkerOptions {
  probeRegion?: string;
  logLevel?: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  logFormat?: 'text' | 'json';
  metricsPort?: number;
}

/** Commander parser: a TCP port (0: any free one). */
function port(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) > 65535)
      throw new InvalidArgumentError(`${flag} must be a port, 0 to 65535.`);
    return Number(value);
  };
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
    observability: {
      ...(opts.logLevel ? { logLevel: opts.logLevel.toUpperCase() as Uppercase<typeof opts.logLevel> } : {}),
      ...(opts.logFormat ? { logFormat: opts.logFormat } : {}),
      ...(opts.metricsPort !== undefined ? { metricsPort: opts.metricsPort } : {}),
    },
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
    .addOption(
      new Option('--log-level <level>', 'lowest level logged (default observability.logLevel, else info)').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'text, or json: one JSON object per line (default observability.logFormat)',
      ).choices(['text', 'json']),
    )
    .option(
      '--metrics-port <port>',
      'serve Prometheus metrics (SDK and runbook geofailover_*) at :PORT/metrics (default observability.metrics.port)',
      port('--metrics-port'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  geofailover worker\n  geofailover worker --probe-region westeurope\n' +
        '  geofailover worker --log-format json --metrics-port 9464',
    )
    .action(async (opts: WorkerOptions, command: Command) => ctx.run(false, () => worker(ctx, command, opts)));
}
