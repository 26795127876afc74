// How the CLI, the worker and the drill resolve their Temporal connection: flags over the configuration's
// `temporal` section over TEMPORAL_* over the envconfig profile over the defaults; TLS, mTLS and API keys; errors
// that name the setting and what to do; Web UI links.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load';
import {
  resolveTemporalSettings,
  TemporalSettingsError,
  webUiLink,
  type ResolveTemporalOptions,
} from '../../src/temporal/connection';
import { createCertificateAuthority, issueServerCertificate } from '../../src/emulator/certificates';

describe('Temporal connection settings', function () {
  this.timeout(30_000);
  let dir = '';
  let toml = '';
  const files = { ca: '', cert: '', key: '', otherKey: '' };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-temporal-'));
    const ca = await createCertificateAuthority('unit CA');
    const client = await issueServerCertificate(ca, { dns: ['worker'] });
    const other = await issueServerCertificate(ca, { dns: ['other'] });
    for (const [name, pem] of [
      ['ca', ca.cert],
      ['cert', client.cert],
      ['key', client.key],
      ['otherKey', other.key],
    ] as const) {
      files[name] = path.join(dir, `${name}.pem`);
      writeFileSync(files[name], pem);
    }
    toml = path.join(dir, 'temporal.toml');
    writeFileSync(
      toml,
      [
        '[profile.default]',
        'address = "default.example:7233"',
        'namespace = "from-default-profile"',
        '[profile.prod]',
        'address = "prod.example:7233"',
        'namespace = "prod"',
        '[profile.prod.tls]',
        `server_ca_cert_path = "${files.ca}"`,
        `client_cert_path = "${files.cert}"`,
        `client_key_path = "${files.key}"`,
        '[profile.cloud]',
        'address = "ns.acct.tmprl.cloud:7233"',
        'namespace = "ns.acct"',
        'api_key = "cloud-key"',
        '[profile.broken]',
        'address = "x:7233"',
        '[profile.broken.tls]',
        `server_ca_cert_path = "${path.join(dir, 'missing-ca.pem')}"`,
        '',
      ].join('\n'),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const resolve = (options: ResolveTemporalOptions & { env?: NodeJS.ProcessEnv }) =>
    resolveTemporalSettings({ ...options, env: { TEMPORAL_CONFIG_FILE: toml, ...options.env } });

  const refusal = (options: ResolveTemporalOptions, pattern: RegExp): TemporalSettingsError => {
    let caught: unknown;
    try {
      resolve(options);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof TemporalSettingsError, `refused with a TemporalSettingsError, got ${String(caught)}`);
    assert.match(`${caught.message}\n${caught.hint}`, pattern);
    return caught;
  };

  it('defaults to localhost:7233, namespace default, plain text, when nothing is configured', () => {
    const s = resolveTemporalSettings({ env: { TEMPORAL_CONFIG_FILE: path.join(dir, 'none.toml') } });
    assert.equal(s.address, 'localhost:7233');
    assert.equal(s.namespace, 'default');
    assert.equal(s.tls, 'off');
    assert.deepEqual(s.connectionOptions, { address: 'localhost:7233' });
    assert.equal(s.uiUrl, undefined);
  });

  it('takes the default profile, TEMPORAL_* over it, the configuration over those, flags over everything', () => {
    assert.equal(resolve({}).address, 'default.example:7233');
    assert.equal(resolve({}).namespace, 'from-default-profile');
    const env = { TEMPORAL_ADDRESS: 'env.example:7233', TEMPORAL_NAMESPACE: 'env-ns' };
    assert.equal(resolve({ env }).address, 'env.example:7233');
    const section = { address: 'config.example:7233' };
    const fromConfig = resolve({ env, section, configFile: path.join(dir, 'g.json') });
    assert.equal(fromConfig.address, 'config.example:7233');
    assert.equal(fromConfig.namespace, 'env-ns', 'fields the section leaves out come from below');
    assert.match(fromConfig.sources.address!, /temporal\.address in .*g\.json/);
    assert.equal(fromConfig.sources.namespace, 'TEMPORAL_NAMESPACE');
    const flagged = resolve({ env, section, flags: { address: 'flag.example:7233' } });
    assert.equal(flagged.address, 'flag.example:7233');
    assert.equal(flagged.sources.address, '--address');
  });

  it('a named profile (flag, configuration or TEMPORAL_PROFILE) brings its TLS and client certificate', () => {
    for (const options of [
      { flags: { profile: 'prod' } },
      { section: { profile: 'prod' } },
      { env: { TEMPORAL_PROFILE: 'prod' } },
    ]) {
      const s = resolve(options);
      assert.equal(s.address, 'prod.example:7233');
      assert.equal(s.tls, 'mtls');
      assert.deepEqual(s.profile, { name: 'prod', file: toml });
      const tls = s.connectionOptions.tls as { serverRootCACertificate?: Buffer; clientCertPair?: unknown };
      assert.ok(tls.serverRootCACertificate?.toString().includes('BEGIN CERTIFICATE'));
      assert.ok(tls.clientCertPair);
    }
    // The flag wins over the configuration and the variable.
    assert.equal(
      resolve({ flags: { profile: 'cloud' }, section: { profile: 'prod' }, env: { TEMPORAL_PROFILE: 'prod' } }).address,
      'ns.acct.tmprl.cloud:7233',
    );
  });

  it('an unknown profile is refused, listing the profiles the file has', () => {
    const e = refusal({ flags: { profile: 'staging' } }, /profile "staging" \(--profile\) is not in .*temporal\.toml/);
    assert.match(e.message, /its profiles: default, prod, cloud, broken/);
    assert.match(e.hint, /--profile default/);
    assert.equal(e.code, 'temporal-profile-not-found');
    refusal({ env: { TEMPORAL_PROFILE: 'nope' } }, /profile "nope" \(TEMPORAL_PROFILE\)/);
    const missing = path.join(dir, 'missing.toml');
    refusal(
      { flags: { profile: 'prod' }, env: { TEMPORAL_CONFIG_FILE: missing } },
      /profile "prod" \(--profile\) is not in .*missing\.toml; the file does not exist/,
    );
  });

  it('an API key implies TLS and goes out as the connection’s apiKey (sent as authorization: Bearer)', () => {
    const cloud = resolve({ flags: { profile: 'cloud' } });
    assert.equal(cloud.tls, 'tls');
    assert.equal(cloud.connectionOptions.apiKey, 'cloud-key');
    assert.equal(cloud.connectionOptions.tls, true, 'TLS with the system roots');
    assert.equal(cloud.uiUrl, 'https://cloud.temporal.io', 'Temporal Cloud has a known Web UI');
    const fromEnv = resolve({ env: { TEMPORAL_API_KEY: 'k', TEMPORAL_ADDRESS: 'self.example:7233' } });
    assert.equal(fromEnv.connectionOptions.apiKey, 'k');
    assert.equal(fromEnv.apiKey, 'TEMPORAL_API_KEY');
    assert.equal(fromEnv.tls, 'tls');
    // TEMPORAL_TLS=false turns it off explicitly.
    assert.equal(resolve({ env: { TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' } }).tls, 'off');
  });

  it('the configuration names its API key by variable or file, never holds it', () => {
    const configFile = path.join(dir, 'geofailover.config.json');
    writeFileSync(path.join(dir, 'api.key'), 'file-key\n');
    const byFile = resolve({ section: { apiKey: { file: 'api.key' } }, configFile });
    assert.equal(byFile.connectionOptions.apiKey, 'file-key');
    const byEnv = resolve({ section: { apiKey: { env: 'MY_KEY' } }, configFile, env: { MY_KEY: 'env-key' } });
    assert.equal(byEnv.connectionOptions.apiKey, 'env-key');
    refusal({ section: { apiKey: { env: 'UNSET_KEY' } }, configFile }, /UNSET_KEY, which is not set/);
    assert.throws(
      () => parseConfig(JSON.stringify({ ...minimalConfig(), temporal: { apiKey: 'the-key-itself' } }), 'c.json'),
      /temporal\.apiKey/,
    );
  });

  it('a certificate that does not read is refused, naming it, where it was set and the flags to fix it', () => {
    const e = refusal(
      { flags: { profile: 'broken' } },
      /TLS server CA certificate .*missing-ca\.pem \(profile "broken"/,
    );
    assert.match(e.message, /no such file/);
    assert.match(e.hint, /--tls-ca-path/);
    refusal(
      { flags: { tlsCertPath: path.join(dir, 'nope.pem'), tlsKeyPath: files.key } },
      /client certificate .*nope\.pem \(--tls-cert-path\)/,
    );
    refusal({ flags: { tlsCaPath: files.key } }, /is not a PEM certificate/);
  });

  it('half a key pair, or a key of another certificate, is refused', () => {
    refusal(
      { flags: { tlsCertPath: files.cert } },
      /client certificate is set \(--tls-cert-path\) without its private key/,
    );
    refusal(
      { env: { TEMPORAL_TLS_CLIENT_KEY_PATH: files.key } },
      /client key is set \(TEMPORAL_TLS_CLIENT_KEY_PATH\) without/,
    );
    refusal(
      { flags: { tlsCertPath: files.cert, tlsKeyPath: files.otherKey } },
      /does not belong to the client certificate/,
    );
  });

  it('the configuration’s TLS files resolve from its directory; flags add to what the layers below give', () => {
    const configFile = path.join(dir, 'geofailover.config.json');
    const s = resolve({
      section: { address: 'tls.example:7233', tls: { serverCaFile: 'ca.pem', serverName: 'temporal.internal' } },
      configFile,
    });
    assert.equal(s.tls, 'tls');
    const tls = s.connectionOptions.tls as { serverNameOverride?: string; serverRootCACertificate?: Buffer };
    assert.equal(tls.serverNameOverride, 'temporal.internal');
    assert.ok(tls.serverRootCACertificate);
    const mtls = resolve({
      section: { tls: { serverCaFile: 'ca.pem' } },
      configFile,
      flags: { tlsCertPath: files.cert, tlsKeyPath: files.key },
    });
    assert.equal(mtls.tls, 'mtls');
    assert.equal(resolve({ section: { tls: false }, configFile, env: { TEMPORAL_TLS: 'true' } }).tls, 'off');
  });

  it('knows the Web UI from --ui-url, temporal.uiUrl or GEOFAILOVER_TEMPORAL_UI, and links runs in it', () => {
    assert.equal(
      resolve({ env: { GEOFAILOVER_TEMPORAL_UI: 'http://ui.example:8233/' } }).uiUrl,
      'http://ui.example:8233',
    );
    assert.equal(
      resolve({ section: { uiUrl: 'https://a.example' }, flags: { uiUrl: 'https://b.example/temporal' } }).uiUrl,
      'https://b.example/temporal',
    );
    refusal({ env: { GEOFAILOVER_TEMPORAL_UI: 'ui.example' } }, /not an http\(s\) URL/);
    assert.equal(
      webUiLink('http://localhost:8233', 'default', 'failover/leaderboard', 'abc-123'),
      'http://localhost:8233/namespaces/default/workflows/failover%2Fleaderboard/abc-123/history',
    );
  });

  it('a malformed address is refused, naming where it came from', () => {
    refusal({ env: { TEMPORAL_ADDRESS: 'http://x' } }, /"http:\/\/x" \(TEMPORAL_ADDRESS\) is not HOST:PORT/);
  });
});

/** The smallest valid configuration (one group of two members), for schema checks of the temporal section. */
function minimalConfig(): Record<string, unknown> {
  const db = (r: string) =>
    `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/c-${r}/databases/default`;
  return {
    people: {},
    groups: {
      g: {
        members: { eastus: db('eastus'), westus: db('westus') },
        trafficManager: {
          profileId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/tm',
          endpoints: { eastus: { name: 'eastus' }, westus: { name: 'westus' } },
        },
        applicationRegions: { eastus: { eastus: 'a:1', westus: 'b:1' } },
        commanders: ['x'],
        approvers: ['x'],
      },
    },
  };
}
