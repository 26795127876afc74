/**
 * What every runbook command gets: its output streams, the environment, the global options and one
 * lazily connected Temporal client (closed by `main` when the command ends).
 */
import type { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { CommandIo } from '../emulator/main';
import { cliIdentity, connectClient } from '../starter';
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
}

export class CliContext {
  private client?: Promise<Client>;

  constructor(
    readonly io: CommandIo,
    readonly environment: CliEnvironment,
    /** set by the command's action: the exit code main returns */
    readonly setExit: (code: number) => void,
  ) {}

  get env(): NodeJS.ProcessEnv {
    return this.environment.env;
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

  /** Where the Temporal client connects, for messages (envconfig: profile file, TEMPORAL_ADDRESS, ...). */
  temporalTarget(): { address: string; namespace: string } {
    const config = loadClientConnectConfig();
    return {
      address: config.connectionOptions.address ?? 'localhost:7233',
      namespace: config.namespace ?? 'default',
    };
  }

  /**
   * The Temporal client, connected on first use; `actor` (the command's --by) becomes its identity, so the
   * history records who signalled or decided.
   * @throws RefusedError naming the address when the server cannot be reached or the settings are invalid.
   */
  temporal(actor?: string): Promise<Client> {
    this.client ??= connectClient(actor ? { identity: cliIdentity(actor) } : {}).catch((e: unknown) => {
      this.client = undefined;
      let target = 'the Temporal server';
      try {
        const t = this.temporalTarget();
        target = `the Temporal server at ${t.address} (namespace ${t.namespace})`;
      } catch {
        // The settings themselves are invalid; the error below says why.
      }
      throw new RefusedError(
        `cannot connect to ${target}: ${(e as Error)?.message ?? String(e)}`,
        'set TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (or TEMPORAL_API_KEY, TEMPORAL_TLS_*, a TEMPORAL_PROFILE), ' +
          'or start a server: temporal server start-dev',
        'temporal-unreachable',
      );
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
  }
}
