/**
 * Where and how the CLI, the worker and the drill connect to Temporal, resolved once for all of them.
 * Precedence, field by field: command-line flags, then the configuration file's `temporal` section, then
 * Temporal's own environment configuration (`TEMPORAL_*` variables over a profile of the envconfig file,
 * `temporal.toml`), then the defaults (localhost:7233, namespace default, no TLS). TLS is on when any layer asks
 * for it, gives TLS material, or an API key is set (Temporal Cloud), unless a layer turns it off explicitly.
 * Everything is checked here, before any connection, so a missing certificate or an unknown profile is named with
 * what to do next.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TLSConfig } from '@temporalio/client';
import {
  loadClientConfig,
  loadClientConfigProfile,
  type ClientConfigProfile,
  type ConfigDataSource,
} from '@temporalio/envconfig';

export const DEFAULT_TEMPORAL_ADDRESS = 'localhost:7233';
export const DEFAULT_TEMPORAL_NAMESPACE = 'default';
/** The environment variable naming the Temporal Web UI's base URL, for run links. */
export const TEMPORAL_UI_ENV = 'GEOFAILOVER_TEMPORAL_UI';
/** Temporal Cloud's Web UI: its links are /namespaces/<namespace>/workflows/<id>/<run>/history as a self-hosted UI's. */
export const TEMPORAL_CLOUD_UI = 'https://cloud.temporal.io';

/** The connection flags of the command line (all optional). */
export interface TemporalFlags {
  address?: string;
  namespace?: string;
  profile?: string;
  tls?: boolean;
  tlsCaPath?: string;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsServerName?: string;
  uiUrl?: string;
}

/** A secret named by the configuration, never written into it: an environment variable or a file. */
export type SecretReference = { env: string } | { file: string };

/** The configuration file's `temporal` section (src/config/schema.ts). */
export interface TemporalSection {
  address?: string;
  namespace?: string;
  profile?: string;
  apiKey?: SecretReference;
  tls?:
    | boolean
    | {
        serverCaFile?: string;
        serverName?: string;
        clientCertFile?: string;
        clientKeyFile?: string;
      };
  uiUrl?: string;
}

export interface ResolveTemporalOptions {
  flags?: TemporalFlags;
  section?: TemporalSection;
  /** the configuration file the section comes from: named in messages; its directory resolves relative paths */
  configFile?: string;
  /** default process.env */
  env?: NodeJS.ProcessEnv;
}

/** What clients and native connections take (both the client's Connection and the worker's NativeConnection). */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

export interface TemporalSettings {
  address: string;
  namespace: string;
  /** the envconfig profile used, when its file has it */
  profile?: { name: string; file: string };
  tls: 'off' | 'tls' | 'mtls';
  /** where the API key came from, when one is set (never the key) */
  apiKey?: string;
  /** base URL of the Temporal Web UI, when known */
  uiUrl?: string;
  /** where each setting came from: flag, configuration field, variable or profile */
  sources: Record<string, string>;
  connectionOptions: TemporalConnectionOptions;
  /** the TLS material, for diagnosing a refused connection */
  tlsMaterial?: { ca?: Buffer; cert?: Buffer; key?: Buffer; serverName?: string };
}

/** Settings that cannot work (a file that does not read, an unknown profile, half a key pair). Says what to do. */
export class TemporalSettingsError extends Error {
  override name = 'TemporalSettingsError';
  constructor(
    message: string,
    readonly hint: string,
    readonly code = 'temporal-settings',
  ) {
    super(message);
  }
}

type Source = { origin: string } & ({ path: string } | { data: string | Uint8Array });

interface Layer {
  address?: { value: string; origin: string };
  namespace?: { value: string; origin: string };
  apiKey?: { value: string; origin: string };
  tlsEnabled?: { value: boolean; origin: string };
  serverName?: { value: string; origin: string };
  ca?: Source;
  cert?: Source;
  key?: Source;
  metadata?: Record<string, string>;
  uiUrl?: { value: string; origin: string };
}

/** The envconfig file Temporal's tools read: TEMPORAL_CONFIG_FILE, else the user's config dir's temporalio/temporal.toml. */
export function temporalConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.TEMPORAL_CONFIG_FILE) return env.TEMPORAL_CONFIG_FILE;
  let dir: string | undefined;
  switch (os.platform()) {
    case 'win32':
      dir = env.APPDATA || undefined;
      break;
    case 'darwin':
      dir = env.HOME ? path.join(env.HOME, 'Library', 'Application Support') : undefined;
      break;
    default:
      dir = env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : undefined;
      if (!env.XDG_CONFIG_HOME && env.HOME) dir = path.join(env.HOME, '.config');
  }
  return dir ? path.join(dir, 'temporalio', 'temporal.toml') : undefined;
}

function stringEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}

function withOrigin<T>(value: T | undefined, origin: string): { value: T; origin: string } | undefined {
  return value === undefined || value === '' ? undefined : { value, origin };
}

function sourceOf(source: ConfigDataSource | undefined, origin: string): Source | undefined {
  return source ? { ...source, origin } : undefined;
}

function flagLayer(flags: TemporalFlags): Layer {
  return {
    address: withOrigin(flags.address, '--address'),
    namespace: withOrigin(flags.namespace, '--namespace'),
    tlsEnabled: flags.tls ? { value: true, origin: '--tls' } : undefined,
    serverName: withOrigin(flags.tlsServerName, '--tls-server-name'),
    ca: flags.tlsCaPath ? { path: path.resolve(flags.tlsCaPath), origin: '--tls-ca-path' } : undefined,
    cert: flags.tlsCertPath ? { path: path.resolve(flags.tlsCertPath), origin: '--tls-cert-path' } : undefined,
    key: flags.tlsKeyPath ? { path: path.resolve(flags.tlsKeyPath), origin: '--tls-key-path' } : undefined,
    uiUrl: withOrigin(flags.uiUrl, '--ui-url'),
  };
}

function readSecret(ref: SecretReference, field: string, baseDir: string, env: NodeJS.ProcessEnv): string {
  if ('env' in ref) {
    const value = env[ref.env]?.trim();
    if (!value) {
      throw new TemporalSettingsError(
        `${field} names the environment variable ${ref.env}, which is not set`,
        `export ${ref.env}=<the API key> before running geofailover, or remove ${field}`,
      );
    }
    return value;
  }
  const file = path.resolve(baseDir, ref.file);
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new TemporalSettingsError(
      `${field}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      `put the API key in ${file} (relative paths are resolved from the configuration file's directory), or remove ${field}`,
    );
  }
  if (!value) throw new TemporalSettingsError(`${field}: ${file} is empty`, `put the API key in ${file}`);
  return value;
}

function sectionLayer(section: TemporalSection, configFile: string, env: NodeJS.ProcessEnv): Layer {
  const where = (field: string): string => `temporal.${field} in ${configFile}`;
  const base = path.dirname(configFile);
  const tls = section.tls;
  const file = (value: string | undefined, field: string): Source | undefined =>
    value ? { path: path.resolve(base, value), origin: where(`tls.${field}`) } : undefined;
  return {
    address: withOrigin(section.address, where('address')),
    namespace: withOrigin(section.namespace, where('namespace')),
    apiKey: section.apiKey
      ? { value: readSecret(section.apiKey, where('apiKey'), base, env), origin: where('apiKey') }
      : undefined,
    tlsEnabled:
      typeof tls === 'boolean'
        ? { value: tls, origin: where('tls') }
        : tls
          ? { value: true, origin: where('tls') }
          : undefined,
    ...(typeof tls === 'object'
      ? {
          serverName: withOrigin(tls.serverName, where('tls.serverName')),
          ca: file(tls.serverCaFile, 'serverCaFile'),
          cert: file(tls.clientCertFile, 'clientCertFile'),
          key: file(tls.clientKeyFile, 'clientKeyFile'),
        }
      : {}),
    uiUrl: withOrigin(section.uiUrl, where('uiUrl')),
  };
}

/** TEMPORAL_* variables, as envconfig reads them. */
function envLayer(env: NodeJS.ProcessEnv): Layer {
  const profile = loadClientConfigProfile({ disableFile: true, overrideEnvVars: stringEnv(env) });
  const tls = profile.tls;
  const dataOrPath = (name: string): string =>
    env[`TEMPORAL_TLS_${name}_DATA`] !== undefined ? `TEMPORAL_TLS_${name}_DATA` : `TEMPORAL_TLS_${name}_PATH`;
  return {
    address: withOrigin(profile.address, 'TEMPORAL_ADDRESS'),
    namespace: withOrigin(profile.namespace, 'TEMPORAL_NAMESPACE'),
    apiKey: withOrigin(profile.apiKey, 'TEMPORAL_API_KEY'),
    tlsEnabled: tls?.disabled !== undefined ? { value: !tls.disabled, origin: 'TEMPORAL_TLS' } : undefined,
    serverName: withOrigin(tls?.serverName, 'TEMPORAL_TLS_SERVER_NAME'),
    ca: sourceOf(tls?.serverCACert, dataOrPath('SERVER_CA_CERT')),
    cert: sourceOf(tls?.clientCert, dataOrPath('CLIENT_CERT')),
    key: sourceOf(tls?.clientKey, dataOrPath('CLIENT_KEY')),
    metadata: profile.grpcMeta,
    uiUrl: withOrigin(env[TEMPORAL_UI_ENV], TEMPORAL_UI_ENV),
  };
}

function profileLayer(profile: ClientConfigProfile, origin: string): Layer {
  const tls = profile.tls;
  const hasMaterial = tls && (tls.serverCACert || tls.clientCert || tls.clientKey || tls.serverName);
  return {
    address: withOrigin(profile.address, origin),
    namespace: withOrigin(profile.namespace, origin),
    apiKey: withOrigin(profile.apiKey, origin),
    tlsEnabled:
      tls?.disabled !== undefined
        ? { value: !tls.disabled, origin }
        : tls && !hasMaterial
          ? { value: true, origin }
          : undefined,
    serverName: withOrigin(tls?.serverName, origin),
    ca: sourceOf(tls?.serverCACert, origin),
    cert: sourceOf(tls?.clientCert, origin),
    key: sourceOf(tls?.clientKey, origin),
    metadata: profile.grpcMeta,
  };
}

/**
 * The envconfig profile: the one named (flag, configuration, TEMPORAL_PROFILE) or else `default` when the file has it.
 * @throws TemporalSettingsError for a named profile the file does not have (listing the ones it has) or a file that
 *   does not parse.
 */
function loadProfile(
  named: { name: string; origin: string } | undefined,
  env: NodeJS.ProcessEnv,
): { profile: ClientConfigProfile; name: string; file: string } | undefined {
  const file = temporalConfigFile(env);
  if (!file) {
    if (named) {
      throw new TemporalSettingsError(
        `the Temporal profile "${named.name}" (${named.origin}) cannot be looked up: no envconfig file (HOME is not set)`,
        'set TEMPORAL_CONFIG_FILE to your temporal.toml',
        'temporal-profile-not-found',
      );
    }
    return undefined;
  }
  let profiles: Record<string, ClientConfigProfile>;
  try {
    profiles = loadClientConfig({ configSource: { path: file }, overrideEnvVars: stringEnv(env) }).profiles;
  } catch (e) {
    throw new TemporalSettingsError(
      `cannot read the Temporal profiles file ${file}: ${(e as Error).message}`,
      'fix the file (TOML: [profile.NAME] tables with address, namespace, api_key, [profile.NAME.tls]), ' +
        'or point TEMPORAL_CONFIG_FILE at another one',
      'temporal-profile-invalid',
    );
  }
  const name = named?.name ?? 'default';
  const profile = Object.hasOwn(profiles, name) ? profiles[name] : undefined;
  if (!profile) {
    if (!named) return undefined;
    const known = Object.keys(profiles);
    throw new TemporalSettingsError(
      `the Temporal profile "${named.name}" (${named.origin}) is not in ${file}; ` +
        (known.length
          ? `its profiles: ${known.join(', ')}`
          : existsSync(file)
            ? 'the file has no profiles'
            : 'the file does not exist'),
      known.length
        ? `pass one of them (--profile ${known[0]}), or add [profile.${named.name}] to ${file}`
        : `create ${file} with a [profile.${named.name}] table (temporal config set --profile ${named.name} ...), ` +
            'or set TEMPORAL_CONFIG_FILE to the file that has it',
      'temporal-profile-not-found',
    );
  }
  return { profile, name, file };
}

/**
 * Whether TLS is on: the highest layer that says anything about TLS decides (turning it on or off, or giving
 * TLS material); with none, an API key turns it on (Temporal Cloud needs TLS).
 */
function decideTls(layers: Layer[], apiKey: Layer['apiKey']): { value: boolean; origin: string } | undefined {
  for (const layer of layers) {
    if (layer.tlsEnabled) return layer.tlsEnabled;
    const material = layer.ca ?? layer.cert ?? layer.key ?? layer.serverName;
    if (material) return { value: true, origin: material.origin };
  }
  return apiKey ? { value: true, origin: apiKey.origin } : undefined;
}

function first<K extends keyof Layer>(layers: Layer[], key: K): Layer[K] {
  for (const layer of layers) if (layer[key] !== undefined) return layer[key];
  return undefined;
}

const TLS_WHAT = {
  ca: {
    what: 'server CA certificate',
    fix: '--tls-ca-path, temporal.tls.serverCaFile or TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  },
  cert: {
    what: 'client certificate',
    fix: '--tls-cert-path, temporal.tls.clientCertFile or TEMPORAL_TLS_CLIENT_CERT_PATH',
  },
  key: {
    what: 'client private key',
    fix: '--tls-key-path, temporal.tls.clientKeyFile or TEMPORAL_TLS_CLIENT_KEY_PATH',
  },
} as const;

function readTls(source: Source, kind: keyof typeof TLS_WHAT): Buffer {
  const { what, fix } = TLS_WHAT[kind];
  let data: Buffer;
  if ('path' in source) {
    try {
      data = readFileSync(source.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new TemporalSettingsError(
        `the TLS ${what} ${source.path} (${source.origin}) cannot be read: ${code === 'ENOENT' ? 'no such file' : (code ?? (e as Error).message)}`,
        `check the path (${fix}); relative paths in the configuration file are resolved from its directory`,
        'temporal-tls-file',
      );
    }
  } else {
    data = Buffer.from(source.data);
  }
  try {
    if (kind === 'key') createPrivateKey(data);
    else new X509Certificate(data);
  } catch (e) {
    throw new TemporalSettingsError(
      `the TLS ${what} from ${source.origin}${'path' in source ? ` (${source.path})` : ''} is not a PEM ${kind === 'key' ? 'private key' : 'certificate'}: ${(e as Error).message}`,
      `give the PEM file itself (${fix})`,
      'temporal-tls-file',
    );
  }
  return data;
}

/** `http(s)://host[:port][/base]` without a trailing slash. */
function uiBase(value: string, origin: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    url = undefined as never;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new TemporalSettingsError(
      `the Temporal Web UI address ${JSON.stringify(value)} (${origin}) is not an http(s) URL`,
      'give its base URL, such as https://temporal-ui.example.com or http://localhost:8233',
    );
  }
  return url.toString().replace(/\/+$/, '');
}

/**
 * The connection settings, every file read and checked.
 * @throws TemporalSettingsError naming the setting, where it came from and what to do.
 */
export function resolveTemporalSettings(options: ResolveTemporalOptions = {}): TemporalSettings {
  const env = options.env ?? process.env;
  const flags = options.flags ?? {};
  const configFile = options.configFile ?? 'the configuration';
  const named = flags.profile
    ? { name: flags.profile, origin: '--profile' }
    : options.section?.profile
      ? { name: options.section.profile, origin: `temporal.profile in ${configFile}` }
      : env.TEMPORAL_PROFILE
        ? { name: env.TEMPORAL_PROFILE, origin: 'TEMPORAL_PROFILE' }
        : undefined;
  const loaded = loadProfile(named, env);
  const layers: Layer[] = [
    flagLayer(flags),
    ...(options.section ? [sectionLayer(options.section, configFile, env)] : []),
    envLayer(env),
    ...(loaded ? [profileLayer(loaded.profile, `profile "${loaded.name}" in ${loaded.file}`)] : []),
  ];

  const address = first(layers, 'address') ?? { value: DEFAULT_TEMPORAL_ADDRESS, origin: 'default' };
  if (!/^\S+:\d{1,5}$/.test(address.value)) {
    throw new TemporalSettingsError(
      `the Temporal address ${JSON.stringify(address.value)} (${address.origin}) is not HOST:PORT`,
      'give the frontend gRPC address, such as temporal.example.com:7233 or <namespace>.<account>.tmprl.cloud:7233',
    );
  }
  const namespace = first(layers, 'namespace') ?? { value: DEFAULT_TEMPORAL_NAMESPACE, origin: 'default' };
  const apiKey = first(layers, 'apiKey');
  const serverName = first(layers, 'serverName');
  const ca = first(layers, 'ca');
  const cert = first(layers, 'cert');
  const key = first(layers, 'key');
  const metadata = first(layers, 'metadata');
  const sources: Record<string, string> = { address: address.origin, namespace: namespace.origin };

  const tlsDecision = decideTls(layers, apiKey);
  const wantsTls = tlsDecision?.value ?? false;
  let tls: TLSConfig | undefined;
  let tlsMaterial: TemporalSettings['tlsMaterial'];
  if (wantsTls) {
    if (cert && !key) {
      throw new TemporalSettingsError(
        `a TLS client certificate is set (${cert.origin}) without its private key`,
        `give the key too: ${TLS_WHAT.key.fix}`,
        'temporal-tls-incomplete',
      );
    }
    if (key && !cert) {
      throw new TemporalSettingsError(
        `a TLS client key is set (${key.origin}) without its certificate`,
        `give the certificate too: ${TLS_WHAT.cert.fix}`,
        'temporal-tls-incomplete',
      );
    }
    const caPem = ca ? readTls(ca, 'ca') : undefined;
    const certPem = cert ? readTls(cert, 'cert') : undefined;
    const keyPem = key ? readTls(key, 'key') : undefined;
    if (certPem && keyPem && !new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem))) {
      throw new TemporalSettingsError(
        `the TLS client key (${key!.origin}) does not belong to the client certificate (${cert!.origin})`,
        'give the key the certificate was issued for',
        'temporal-tls-incomplete',
      );
    }
    tls = {
      ...(serverName ? { serverNameOverride: serverName.value } : {}),
      ...(caPem ? { serverRootCACertificate: caPem } : {}),
      ...(certPem && keyPem ? { clientCertPair: { crt: certPem, key: keyPem } } : {}),
    };
    tlsMaterial = { ca: caPem, cert: certPem, key: keyPem, serverName: serverName?.value };
    if (ca) sources.serverCa = ca.origin;
    if (cert) sources.clientCert = cert.origin;
    if (serverName) sources.serverName = serverName.origin;
  }
  if (tlsDecision) sources.tls = tlsDecision.origin;
  if (apiKey) sources.apiKey = apiKey.origin;

  const ui = first(layers, 'uiUrl');
  let uiUrl: string | undefined;
  if (ui) {
    uiUrl = uiBase(ui.value, ui.origin);
    sources.uiUrl = ui.origin;
  } else if (/\.(tmprl\.cloud|api\.temporal\.io):\d+$/.test(address.value)) {
    uiUrl = TEMPORAL_CLOUD_UI;
    sources.uiUrl = 'Temporal Cloud';
  }

  return {
    address: address.value,
    namespace: namespace.value,
    ...(loaded ? { profile: { name: loaded.name, file: loaded.file } } : {}),
    tls: !wantsTls ? 'off' : tls?.clientCertPair ? 'mtls' : 'tls',
    ...(apiKey ? { apiKey: apiKey.origin } : {}),
    ...(uiUrl ? { uiUrl } : {}),
    sources,
    connectionOptions: {
      address: address.value,
      // `true`: TLS with the system roots and the host's name.
      ...(wantsTls ? { tls: tls && Object.keys(tls).length ? tls : true } : {}),
      ...(apiKey ? { apiKey: apiKey.value } : {}),
      ...(metadata && Object.keys(metadata).length ? { metadata } : {}),
    },
    ...(tlsMaterial ? { tlsMaterial } : {}),
  };
}

/** "127.0.0.1:7233 (namespace default, TLS with client certificate, API key, profile "prod")" */
export function describeTarget(settings: TemporalSettings): string {
  const parts = [`namespace ${settings.namespace}`];
  if (settings.tls === 'tls') parts.push('TLS');
  if (settings.tls === 'mtls') parts.push('TLS with client certificate');
  if (settings.apiKey) parts.push('API key');
  if (settings.profile) parts.push(`profile "${settings.profile.name}"`);
  return `${settings.address} (${parts.join(', ')})`;
}

/**
 * The Web UI page of a workflow run: `<ui>/namespaces/<namespace>/workflows/<id>/<run>/history`, the id encoded
 * (runbook ids hold a "/").
 */
export function webUiLink(uiUrl: string, namespace: string, workflowId: string, runId: string): string {
  return (
    `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/` +
    `${encodeURIComponent(workflowId)}/${encodeURIComponent(runId)}/history`
  );
}
