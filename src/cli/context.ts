/**
 * What every runbook command gets: its output streams, the environment, the global options and one
 * lazily connected Temporal client (closed by `main` when the command ends).
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { Client } from '@temporalio/client';
import { resolveConfigPath } from '../config/load';
import { temporalSchema } from '../config/schema';
import type { CommandIo } from '../contract/command-io';
import { cliIdentity } from '../starter';
import {
  resolveTemporalSettings,
  TemporalSettingsError,
  webUiLink,
  type TemporalFlags,
  type TemporalSection,
  type TemporalSettings,
} from '../temporal/connection';
import type * as ClientModule from '../temporal/client';
import type * as CliTracingModule from '../observability/cli-tracing';
import { TemporalConnectError } from '../temporal/diagnose';
import { EXIT_OK, RefusedError, reportError } from './errors';
import { Output } from './output';

export interface GlobalOptions {
  /** --config FILE; else GEOFAILOVER_CONFIG, else ./geofailover.config.json */
  config?: string;
  /** --task-queue (hidden; tests): default TASK_QUEUE */
  taskQueue?: string;
}

export interface CliEnvironment {
  env: NodeJS.ProcessEnv;
  /** whether stderr is a terminal a human watches (progress and redraws only then) */
  stderrIsTTY: boolean;
  stdoutIsTTY: boolean;
  /** terminal width for redraws */
  columns?: number;
  /** whether stdin is a terminal a human can answer a question on (approve/reject confirm there) */
  stdinIsTTY?: boolean;
  /** asks the person at the terminal a yes/no question (default no); tests answer it */
  confirm?: (question: string) => Promise<boolean>;
}

/** A settings or connection problem as the CLI reports it: what is wrong, and the next step. */
export function temporalRefusal(e: unknown): unknown {
  if (e instanceof TemporalSettingsError || e instanceof TemporalConnectError) {
    return new RefusedError(e.message, e.hint, e.code);
  }
  return e;
}

/** How long a TCP connect to the Temporal address may take before the CLI says nothing answers there. */
const REACH_TIMEOUT_MS = 3000;

/** Connect errors that mean nothing listens there (the rest, TLS and credentials, the connection explains). */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);

/**
 * Fails at once when nothing listens at the Temporal address: the SDK would wait out its connect deadline first
 * (about 10 s of silence). Anything else (TLS, credentials) is left to the connection, which explains it.
 * @throws RefusedError "no Temporal server at ADDRESS: why", with what to do.
 */
async function refuseUnreachable(settings: TemporalSettings): Promise<void> {
  const i = settings.address.lastIndexOf(':');
  const host = settings.address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(settings.address.slice(i + 1));
  const code = await new Promise<string | undefined>((resolve) => {
    const socket = net.connect({ host, port });
    let settled = false;
    const done = (result: string | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    // A busy event loop (modules loading) can run this timer before a connect that already happened is seen:
    // I/O is polled after timers, so give it that one turn before calling it a timeout.
    const timer = setTimeout(() => setImmediate(() => done('ETIMEDOUT')), REACH_TIMEOUT_MS);
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? 'ECONNREFUSED'));
  });
  if (code === undefined || !UNREACHABLE.has(code)) return;
  const from = settings.sources.address ? ` (from ${settings.sources.address})` : '';
  throw new RefusedError(
    `no Temporal server at ${settings.address}: nothing answers at ${settings.address} (${code})${from}`,
    'start one (temporal server start-dev), or give its address: --address, temporal.address, TEMPORAL_ADDRESS ' +
      'or the profile',
    'temporal-unreachable',
    { address: settings.address, namespace: settings.namespace },
  );
}

export class CliContext {
  private client?: Promise<Client>;
  private settings?: TemporalSettings;
  private flags: TemporalFlags = {};
  private configPath?: string;

  constructor(
    readonly io: CommandIo,
    readonly environment: CliEnvironment,
    /** set by the command's action: the exit code main returns */
    readonly setExit: (code: number) => void,
  ) {}

  get env(): NodeJS.ProcessEnv {
    return this.environment.env;
  }

  /** The connection flags and --config of the command line (src/temporal/cli-options.ts), before the action. */
  useTemporalFlags(flags: TemporalFlags, configPath?: string): void {
    this.flags = flags;
    this.configPath = configPath;
    this.settings = undefined;
  }

  /** The output of one command: text, or JSON under --json; progress on stderr only for a human on a TTY. */
  output(json: boolean): Output {
    return new Output(this.io, {
      json,
      live: this.environment.stderrIsTTY && !json && !this.environment.env.CI,
      interactive: this.environment.stdoutIsTTY,
      columns: this.environment.columns,
    });
  }

  /**
   * How to reach Temporal: the flags, then the configuration file's `temporal` section (when the file exists),
   * then TEMPORAL_* and the envconfig profile.
   * @throws RefusedError naming the setting at fault and what to do.
   */
  temporalSettings(): TemporalSettings {
    if (this.settings) return this.settings;
    const file = resolveConfigPath(this.configPath);
    try {
      const section = existsSync(file) ? readTemporalSection(file) : undefined;
      this.settings = resolveTemporalSettings({
        flags: this.flags,
        ...(section ? { section, configFile: file } : {}),
        env: this.env,
      });
    } catch (e) {
      throw temporalRefusal(e);
    }
    return this.settings;
  }

  /** Where the Temporal client connects, for messages. */
  temporalTarget(): { address: string; namespace: string } {
    const { address, namespace } = this.temporalSettings();
    return { address, namespace };
  }

  /** The Web UI page of a run, when the UI's address is known (--ui-url, temporal.uiUrl, GEOFAILOVER_TEMPORAL_UI). */
  webUi(workflowId: string, runId: string): string | undefined {
    let settings: TemporalSettings;
    try {
      settings = this.temporalSettings();
    } catch {
      return undefined;
    }
    return settings.uiUrl ? webUiLink(settings.uiUrl, settings.namespace, workflowId, runId) : undefined;
  }

  /**
   * The Temporal client, connected on first use; `actor` (the command's --by) becomes its identity, so the
   * history records who signalled or decided.
   * @throws RefusedError saying why the server cannot be reached or the settings do not work, and what to do.
   */
  temporal(actor?: string): Promise<Client> {
    this.client ??= (async () => {
      const settings = this.temporalSettings();
      await refuseUnreachable(settings);
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the SDK only for commands that connect
      const { connectTemporalClient } = require('../temporal/client') as typeof ClientModule;
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- OpenTelemetry only when tracing is on
      const cliTracing = require('../observability/cli-tracing') as typeof CliTracingModule;
      const interceptors = cliTracing.cliClientInterceptors(this.env);
      return connectTemporalClient(settings, {
        ...(actor ? { identity: cliIdentity(actor) } : {}),
        ...(interceptors ? { interceptors } : {}),
      });
    })().catch((e: unknown) => {
      this.client = undefined;
      throw temporalRefusal(e);
    });
    return this.client;
  }

  /**
   * Runs one command: its exit code (default 0) goes to main; an error is reported (text on stderr, JSON
   * on stdout under --json) with the exit code of its kind.
   */
  async run(json: boolean, command: (out: Output) => Promise<number | void>): Promise<void> {
    const out = this.output(json);
    try {
      this.setExit((await command(out)) ?? EXIT_OK);
    } catch (e) {
      const report = reportError(e);
      out.error(report);
      this.setExit(report.error.exitCode);
    }
  }

  /** Closes the client connection if one was opened. */
  async close(): Promise<void> {
    const pending = this.client;
    this.client = undefined;
    if (!pending) return;
    try {
      await (await pending).connection.close();
    } catch {
      // Never connected: nothing to close.
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded already when the client connected
    await (require('../observability/cli-tracing') as typeof CliTracingModule).shutdownCliTracing();
  }
}

/**
 * The `temporal` section of the configuration file, read on its own: commands that need no configuration (status,
 * approve, ...) still connect as it says, and are not stopped by a problem elsewhere in the file.
 * @throws TemporalSettingsError when the file is not JSON or the section is invalid.
 */
function readTemporalSection(file: string): TemporalSection | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new TemporalSettingsError(
      `cannot read the temporal section of ${file}: ${(e as Error).message}`,
      'fix the configuration file (its JSON Schema is schemas/config.schema.json)',
      'config-invalid',
    );
  }
  const section = (raw as { temporal?: unknown } | null)?.temporal;
  if (section === undefined) return undefined;
  const parsed = temporalSchema.safeParse(section);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new TemporalSettingsError(
      `${file}: temporal${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message ?? 'invalid'}`,
      'fix the temporal section of the configuration file (its JSON Schema is schemas/config.schema.json)',
      'config-invalid',
    );
  }
  return parsed.data;
}
