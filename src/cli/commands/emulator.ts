/**
 * `geofailover emulator`: run the ARM emulator, or inject faults into a running one through its control API.
 * Loaded only when the command line names it (src/cli/main.ts), like every command.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { CONTROL_ENV, ControlClient, formatCounters, runEmulator, type CommandIo } from '../../emulator/main';
import { parseLatencySpec, type LatencySettings } from '../../emulator/latencies';
import { LRO_OPERATIONS, OPERATION_NAMES } from '../../emulator/operations';
import type { CliContext } from '../context';
import { UsageError } from '../errors';

function integer(name: string, min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number.`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be between ${min} and ${max}.`);
    return n;
  };
}

const EMULATOR_HELP = `
Runs the ARM emulator: Microsoft.Cache/redisEnterprise and Microsoft.Network/trafficmanagerprofiles over
HTTPS, one redis-server per database (per region above 30 databases: --data-plane), a private endpoint per
(application region, database). Once ready it
prints one line of JSON on stdout, {"arm":"https://127.0.0.1:PORT","ca":"CA.pem","control":"http://127.0.0.1:PORT",
"identity":{"authorityHost":"https://127.0.0.1:PORT","tenantId":…,"clientId":…,"clientSecret":…}} (ARM accepts only
tokens its tenant issues: get one with ClientSecretCredential and those test-only credentials), logs on stderr, and
runs until SIGINT/SIGTERM.

Fault injection into a running emulator (--control URL, or env ${CONTROL_ENV}):
  geofailover emulator outage REGION          ARM answers 503 for the region; its redis-servers stop
  geofailover emulator data-plane-outage REGION
                                              ARM answers as usual (databases Running); the region's redis-servers
                                              stop and its private endpoints black-hole (probes time out)
  geofailover emulator restore REGION         end the outage (ARM or data-plane-only, and a hang); redis-servers
                                              restart with their data
  geofailover emulator hang REGION [--operation OP]
                                              the region's ARM requests are accepted and never answered
  geofailover emulator throttle --count N [--retry-after S] [--method M] [--operation OP] [--resource TEXT]
  geofailover emulator lro --operation OP [--resource TEXT] [--fail CODE:MESSAGE | --cancel]
                           [--duration-ms T] [--times N | --sticky]
  geofailover emulator latency --operation OP|'*' --ms N
  geofailover emulator latencies [arm-read=150ms,arm-write=1s,lro=10s,probe=30ms]
                                              show or set the emulated latencies (also --latency at start;
                                              added to every ARM read/write, LRO and private-endpoint connection)
  geofailover emulator firewall --app-region R --database ID|REGION --mode open|refuse|blackhole
  geofailover emulator degrade ENDPOINT [--clear]
                                              Traffic Manager probes of the endpoint fail: Degraded while enabled
  geofailover emulator counters [--json]      accepted mutating ARM calls per resource and operation
  geofailover emulator state                  state dump (JSON)
  geofailover emulator reset                  clear every fault

Control API (plain HTTP + JSON on 127.0.0.1):
  GET  /health, /state, /counters, /faults       POST /counters/reset
  POST /faults/outage   {region}                 POST /faults/restore {region}
  POST /faults/data-plane-outage {region}
  POST /faults/hang     {region, operation?="*"}
  POST /faults/throttle {count, retryAfterSeconds?, method?, operation?, resource?}
  POST /faults/lro      {operation, resource?, fail?:{code,message}, cancel?, durationMs?, times?|sticky?}
  POST /faults/latency  {operation|"*", ms}
  POST /faults/firewall {applicationRegion, database (id or region), mode}
  POST /faults/degrade  {endpoint (name or id), degraded?}
  POST /faults/reset
  GET  /latencies                                POST /latencies {"arm-read"?, "arm-write"?, lro?, probe?} (ms)

Operations: ${OPERATION_NAMES.join(', ')}.
Long-running operations: ${LRO_OPERATIONS.join(', ')}.
`;

interface ControlOptions {
  control?: string;
  json?: boolean;
}

function controlClient(options: ControlOptions): ControlClient {
  const url = options.control ?? process.env[CONTROL_ENV];
  if (!url) {
    throw new UsageError(
      `no control API: pass --control URL (the "control" field of the emulator's ready line) or set ${CONTROL_ENV}.`,
    );
  }
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--control must be an http:// URL, got ${url}`);
  return new ControlClient(url);
}

function printJson(io: CommandIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

export function registerEmulator(program: Command, ctx: CliContext): void {
  const { io, setExit } = ctx;
  const emulator = program
    .command('emulator')
    .summary('run the ARM emulator, or inject faults into a running one')
    .description('Run the ARM emulator (HTTPS) with its redis-servers, or control a running emulator.')
    .option(
      '--scenario <file|estate:N>',
      'scenario file, or estate:N for a generated estate of N groups over eastus, westeurope, southeastasia ' +
        '(default: the built-in default scenario)',
    )
    .option('--port <n>', 'ARM HTTPS port on 127.0.0.1 (0: any free port)', integer('--port', 0, 65535), 0)
    .option(
      '--control-port <n>',
      'control API port on 127.0.0.1 (0: any free port)',
      integer('--control-port', 0, 65535),
      0,
    )
    .option('--redis-server <path>', 'redis-server binary (default: $REDIS_SERVER_PATH, then PATH)')
    .option('--work-dir <dir>', 'directory for the CA and redis files (default: a fresh temp dir)')
    .option(
      '--lro-duration-ms <n>',
      'how long long-running operations take',
      integer('--lro-duration-ms', 0, 3_600_000),
    )
    .option('--metadata-tick-ms <n>', 'metadata build-up interval', integer('--metadata-tick-ms', 10, 3_600_000))
    .option('--verbose', 'log every ARM request on stderr')
    .option('--write-config <file>', 'once ready, write a geofailover configuration for this emulator to FILE')
    .addOption(
      new Option(
        '--data-plane <shape>',
        'per-database: one redis-server per database; shared: one per region, each database a logical database ' +
          '(default auto: shared above 30 databases)',
      ).choices(['auto', 'per-database', 'shared']),
    )
    .addOption(
      new Option(
        '--latency <spec>',
        'emulated latencies, e.g. arm-read=150ms,arm-write=1s,lro=10s,probe=30ms (default: none; see `emulator latencies`)',
      ).env('GEOFAILOVER_EMULATOR_LATENCY'),
    )
    .addHelpText('after', EMULATOR_HELP)
    .action(async (opts: Record<string, unknown>) => {
      if (typeof opts.latency === 'string') {
        try {
          parseLatencySpec(opts.latency);
        } catch (e) {
          throw new UsageError(`--latency: ${(e as Error).message}`);
        }
      }
      setExit(
        await runEmulator(
          {
            scenarioFile: opts.scenario as string | undefined,
            port: opts.port as number,
            controlPort: opts.controlPort as number,
            redisServerPath: opts.redisServer as string | undefined,
            workDir: opts.workDir as string | undefined,
            lroDurationMs: opts.lroDurationMs as number | undefined,
            metadataTickMs: opts.metadataTickMs as number | undefined,
            verbose: opts.verbose === true,
            writeConfig: opts.writeConfig as string | undefined,
            dataPlane: opts.dataPlane as 'auto' | 'per-database' | 'shared' | undefined,
            latency: opts.latency as string | undefined,
          },
          io,
        ),
      );
    });

  const sub = (name: string, summary: string): Command =>
    emulator
      .command(name)
      .summary(summary)
      .description(summary)
      .option('--control <url>', `control API URL (default: $${CONTROL_ENV})`)
      .option('--json', 'print the control API answer as JSON');

  sub('outage', 'start a region outage: ARM answers 503 for the region, its redis-servers stop')
    .argument('<region>', 'a region of the scenario, e.g. eastus')
    .action(async (region: string, opts: ControlOptions) => {
      const state = await controlClient(opts).outage(region);
      if (opts.json) printJson(io, state);
      else io.stdout(`outage started in ${region}; regions in outage: ${state.regionsInOutage.join(', ')}\n`);
    });

  sub(
    'data-plane-outage',
    "start a data-plane-only outage: ARM answers as usual, the region's redis-servers stop and its private endpoints black-hole",
  )
    .argument('<region>', 'a region of the scenario, e.g. eastus')
    .action(async (region: string, opts: ControlOptions) => {
      const state = await controlClient(opts).request<{ dataPlaneOutages: string[] }>(
        'POST',
        '/faults/data-plane-outage',
        { region },
      );
      if (opts.json) printJson(io, state);
      else
        io.stdout(
          `data-plane outage started in ${region}; data planes down: ${state.dataPlaneOutages.join(', ')} (ARM answers)\n`,
        );
    });

  sub('restore', 'end a region outage: redis-servers restart with their data, ARM answers again')
    .argument('<region>', 'a region of the scenario, e.g. eastus')
    .action(async (region: string, opts: ControlOptions) => {
      const state = await controlClient(opts).restore(region);
      if (opts.json) printJson(io, state);
      else io.stdout(`${region} restored; regions in outage: ${state.regionsInOutage.join(', ') || 'none'}\n`);
    });

  sub('hang', "hang a region's ARM front end: requests are accepted and never answered (restore ends it)")
    .argument('<region>', 'a region of the scenario, e.g. eastus')
    .addOption(
      new Option('--operation <op>', "only this operation (default: every one, '*')").choices([
        ...OPERATION_NAMES,
        '*',
      ]),
    )
    .action(async (region: string, opts: ControlOptions & Record<string, unknown>) => {
      const answer = await controlClient(opts).request<{ hangs: { region: string; operation: string }[] }>(
        'POST',
        '/faults/hang',
        { region, ...(opts.operation !== undefined ? { operation: opts.operation } : {}) },
      );
      if (opts.json) printJson(io, answer);
      else io.stdout(`hung: ${answer.hangs.map((h) => `${h.region} (${h.operation})`).join(', ')}\n`);
    });

  sub('throttle', 'answer the next N matching ARM requests with 429 and Retry-After')
    .requiredOption('--count <n>', 'how many requests to throttle', integer('--count', 1, 1_000_000))
    .option('--retry-after <s>', 'Retry-After seconds', integer('--retry-after', 0, 3600), 1)
    .option('--method <method>', 'only requests with this HTTP method')
    .addOption(new Option('--operation <op>', 'only this operation').choices([...OPERATION_NAMES]))
    .option('--resource <text>', 'only requests whose path contains this text')
    .action(async (opts: ControlOptions & Record<string, unknown>) => {
      const fault = await controlClient(opts).throttle({
        count: opts.count as number,
        retryAfterSeconds: opts.retryAfter as number,
        method: opts.method as string | undefined,
        operation: opts.operation as never,
        resource: opts.resource as string | undefined,
      });
      if (opts.json) printJson(io, fault);
      else
        io.stdout(
          `the next ${fault.remaining} matching request(s) answer 429 (Retry-After: ${fault.retryAfterSeconds})\n`,
        );
    });

  sub('lro', 'make the next matching long-running operation(s) fail, be canceled, or take a set time')
    .addOption(new Option('--operation <op>', 'the operation').choices([...LRO_OPERATIONS]).makeOptionMandatory())
    .option('--resource <text>', 'only operations whose target id contains this text')
    .option('--fail <code:message>', 'end Failed with this error code and message')
    .option('--cancel', 'end Canceled')
    .option('--duration-ms <n>', 'take this long', integer('--duration-ms', 0, 86_400_000))
    .option('--times <n>', 'apply to the next N operations (default 1)', integer('--times', 1, 1_000_000))
    .option('--sticky', 'apply until reset')
    .action(async (opts: ControlOptions & Record<string, unknown>) => {
      let fail: { code: string; message: string } | undefined;
      if (typeof opts.fail === 'string') {
        const i = opts.fail.indexOf(':');
        if (i <= 0 || i === opts.fail.length - 1) {
          throw new UsageError(`--fail takes CODE:MESSAGE, e.g. --fail "LinkFailed:the region did not answer"`);
        }
        fail = { code: opts.fail.slice(0, i), message: opts.fail.slice(i + 1) };
      }
      const fault = await controlClient(opts).lro({
        operation: opts.operation as never,
        resource: opts.resource as string | undefined,
        fail,
        cancel: opts.cancel === true ? true : undefined,
        durationMs: opts.durationMs as number | undefined,
        times: opts.times as number | undefined,
        sticky: opts.sticky === true ? true : undefined,
      });
      if (opts.json) printJson(io, fault);
      else {
        const what = fault.fail
          ? `fail with ${fault.fail.code}`
          : fault.cancel
            ? 'be canceled'
            : `take ${fault.durationMs} ms`;
        const scope = fault.remaining === null ? 'every' : `the next ${fault.remaining}`;
        io.stdout(
          `${scope} ${fault.operation} operation(s)${fault.resource ? ` on *${fault.resource}*` : ''} will ${what}\n`,
        );
      }
    });

  sub('latency', 'add latency to an operation (0 removes it)')
    .addOption(
      new Option('--operation <op>', "the operation, or '*' for all")
        .choices([...OPERATION_NAMES, '*'])
        .makeOptionMandatory(),
    )
    .requiredOption('--ms <n>', 'milliseconds to add', integer('--ms', 0, 600_000))
    .action(async (opts: ControlOptions & Record<string, unknown>) => {
      const l = await controlClient(opts).latency({ operation: opts.operation as never, ms: opts.ms as number });
      if (opts.json) printJson(io, l);
      else io.stdout(l.ms === 0 ? `no added latency on ${l.operation}\n` : `${l.operation}: +${l.ms} ms\n`);
    });

  sub('latencies', 'show or set the emulated latencies (ARM read, ARM write, LRO, probe)')
    .argument('[spec]', 'e.g. arm-read=150ms,arm-write=1s,lro=10s,probe=30ms (kinds not named keep their value)')
    .action(async (spec: string | undefined, opts: ControlOptions) => {
      let settings: Partial<LatencySettings> | undefined;
      if (spec !== undefined) {
        try {
          settings = parseLatencySpec(spec);
        } catch (e) {
          throw new UsageError((e as Error).message);
        }
      }
      const now = await controlClient(opts).latencies(settings);
      if (opts.json) printJson(io, now);
      else
        io.stdout(
          `${Object.entries(now)
            .map(([kind, ms]) => `${kind}=${ms}ms`)
            .join(',')}\n`,
        );
    });

  sub('firewall', 'block or open the private endpoint(s) from an application region to a database')
    .requiredOption('--app-region <region>', 'the application region')
    .requiredOption('--database <id|region>', 'a database resource id, or a region (its databases)')
    .addOption(
      new Option('--mode <mode>', 'refuse, blackhole or open')
        .choices(['refuse', 'blackhole', 'open'])
        .makeOptionMandatory(),
    )
    .action(async (opts: ControlOptions & Record<string, unknown>) => {
      const rules = await controlClient(opts).firewall({
        applicationRegion: opts.appRegion as string,
        database: opts.database as string,
        mode: opts.mode as 'open' | 'refuse' | 'blackhole',
      });
      if (opts.json) printJson(io, rules);
      else for (const r of rules) io.stdout(`${r.applicationRegion} → ${r.databaseId}: ${r.mode}\n`);
    });

  sub('degrade', "make a Traffic Manager endpoint's health probes fail (Degraded while enabled)")
    .argument('<endpoint>', 'an endpoint name (e.g. eastus) or resource id')
    .option('--clear', 'probes succeed again')
    .action(async (endpoint: string, opts: ControlOptions & Record<string, unknown>) => {
      const answer = await controlClient(opts).request<{ degradedEndpoints: string[] }>('POST', '/faults/degrade', {
        endpoint,
        degraded: opts.clear !== true,
      });
      if (opts.json) printJson(io, answer);
      else io.stdout(`degraded endpoints: ${answer.degradedEndpoints.join(', ') || 'none'}\n`);
    });

  sub('counters', 'accepted mutating ARM calls per resource and operation').action(async (opts: ControlOptions) => {
    const rows = await controlClient(opts).counters();
    if (opts.json) printJson(io, rows);
    else io.stdout(formatCounters(rows));
  });

  sub('state', 'dump the emulator state as JSON').action(async (opts: ControlOptions) => {
    printJson(io, await controlClient(opts).state());
  });

  sub('reset', 'clear every fault (ends outages, opens firewalls)').action(async (opts: ControlOptions) => {
    const state = await controlClient(opts).reset();
    if (opts.json) printJson(io, state);
    else io.stdout('all faults cleared\n');
  });
}
