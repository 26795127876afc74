/**
 * The command line's Temporal connection flags, named as the Temporal CLI names them. They override the
 * configuration's `temporal` section and Temporal's environment configuration (src/temporal/connection.ts).
 * Only commander here: the CLI's start-up stays free of the SDKs.
 */
import { Option, type Command } from 'commander';
import type { TemporalFlags } from './connection';

const GROUP = 'Temporal connection (override the configuration’s "temporal", TEMPORAL_* and the envconfig profile):';

/** Adds the flags to `program` (global: before or after the subcommand) and reports them before each action. */
export function addTemporalOptions(
  program: Command,
  onParsed: (flags: TemporalFlags, configPath: string | undefined) => void,
): void {
  const options = [
    new Option('--address <host:port>', 'Temporal frontend gRPC address'),
    new Option('--namespace <name>', 'Temporal namespace'),
    new Option('--profile <name>', 'envconfig profile of temporal.toml (TEMPORAL_CONFIG_FILE)'),
    new Option('--tls', 'connect over TLS (implied by any --tls-* flag and by an API key)'),
    new Option('--tls-ca-path <file>', "CA of the server's certificate (PEM)"),
    new Option('--tls-cert-path <file>', 'client certificate for mTLS (PEM)'),
    new Option('--tls-key-path <file>', "the client certificate's private key (PEM)"),
    new Option('--tls-server-name <name>', 'the name the server certificate must carry'),
    new Option('--ui-url <url>', 'Temporal Web UI base URL, for links to runs (or GEOFAILOVER_TEMPORAL_UI)'),
  ];
  for (const option of options) program.addOption(option.helpGroup(GROUP));
  program.hook('preAction', (_program, action) => {
    const all = action.optsWithGlobals() as TemporalFlags & { config?: string };
    onParsed(
      {
        address: all.address,
        namespace: all.namespace,
        profile: all.profile,
        tls: all.tls,
        tlsCaPath: all.tlsCaPath,
        tlsCertPath: all.tlsCertPath,
        tlsKeyPath: all.tlsKeyPath,
        tlsServerName: all.tlsServerName,
        uiUrl: all.uiUrl,
      },
      all.config,
    );
  });
}
