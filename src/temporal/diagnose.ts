/**
 * Why a connection to Temporal failed, in words a platform engineer acts on. The SDK's own errors often say only
 * "Failed to connect before the deadline"; so on a failure the address is probed once more with a plain TLS
 * handshake using the same CA, server name and client certificate, which tells an untrusted server certificate, a
 * wrong server name, a server that wants a client certificate (mTLS), or TLS spoken to a plain-text port apart.
 */
import net from 'node:net';
import tls from 'node:tls';
import { describeTarget, type TemporalSettings } from './connection';

/** A connection that failed, with its cause found and what to do next. */
export class TemporalConnectError extends Error {
  override name = 'TemporalConnectError';
  constructor(
    message: string,
    readonly hint: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const PROBE_TIMEOUT_MS = 3000;
/** The HTTP/2 client preface and an empty SETTINGS frame: a gRPC server answers it with its own SETTINGS. */
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

type ProbeResult =
  { kind: 'ok' } | { kind: 'tcp'; code: string } | { kind: 'tls'; code: string; message: string } | { kind: 'closed' };

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(i + 1)) };
}

/** Opens the address as the SDK would and reports how far it got. */
function probe(settings: TemporalSettings, useTls: boolean): Promise<ProbeResult> {
  const { host, port } = splitAddress(settings.address);
  const material = settings.tlsMaterial ?? {};
  return new Promise((resolve) => {
    let done = false;
    let handshaken = false;
    const finish = (result: ProbeResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const serverName = material.serverName ?? (net.isIP(host) ? undefined : host);
    const socket: net.Socket = useTls
      ? tls.connect({
          host,
          port,
          ALPNProtocols: ['h2'],
          ...(serverName ? { servername: serverName } : {}),
          ...(material.ca ? { ca: material.ca } : {}),
          ...(material.cert && material.key ? { cert: material.cert, key: material.key } : {}),
          // The server name the certificate must carry: the override, else the host (IP addresses included).
          checkServerIdentity: (_h, cert) => tls.checkServerIdentity(material.serverName ?? host, cert),
        })
      : net.connect({ host, port });
    const timer = setTimeout(
      () => finish(handshaken ? { kind: 'ok' } : { kind: 'tcp', code: 'ETIMEDOUT' }),
      PROBE_TIMEOUT_MS,
    );
    socket.on(useTls ? 'secureConnect' : 'connect', () => {
      handshaken = true;
      // TLS 1.3 servers refuse a client certificate only after the handshake: ask for an answer to find out.
      socket.write(H2_PREFACE);
    });
    socket.on('data', () => finish({ kind: 'ok' }));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      if (!handshaken && !useTls) return finish({ kind: 'tcp', code: e.code ?? e.message });
      if (
        !handshaken &&
        ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(e.code ?? '')
      ) {
        return finish({ kind: 'tcp', code: e.code! });
      }
      finish({ kind: 'tls', code: e.code ?? '', message: e.message });
    });
    socket.on('close', () => finish({ kind: 'closed' }));
  });
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_UNTRUSTED',
]);

function grpcCode(e: unknown): number | undefined {
  for (
    let cur = e as { code?: unknown; cause?: unknown } | undefined, i = 0;
    cur && i < 5;
    cur = cur.cause as never, i++
  ) {
    if (typeof cur.code === 'number') return cur.code;
  }
  return undefined;
}

function messages(e: unknown): string {
  const parts: string[] = [];
  for (
    let cur = e as { message?: unknown; cause?: unknown } | undefined, i = 0;
    cur && i < 5;
    cur = cur.cause as never, i++
  ) {
    if (typeof cur.message === 'string' && !parts.includes(cur.message)) parts.push(cur.message);
  }
  return parts.join(': ') || String(e);
}

/**
 * The connection error `error` explained: a probe of the address decides between unreachable, a TLS problem (which
 * one) and a refusal by the server itself (API key, namespace).
 */
export async function explainConnectFailure(settings: TemporalSettings, error: unknown): Promise<TemporalConnectError> {
  const target = `the Temporal server at ${describeTarget(settings)}`;
  const sdk = messages(error);
  const code = grpcCode(error);
  const fail = (why: string, hint: string, kind: string): TemporalConnectError =>
    new TemporalConnectError(`cannot connect to ${target}: ${why}`, hint, kind);
  const from = (key: string): string => (settings.sources[key] ? ` (from ${settings.sources[key]})` : '');

  if (code === 16 || /valid authentication credentials|unauthenticated|unauthorized/i.test(sdk)) {
    return fail(
      `the server refused the credentials: ${sdk}`,
      settings.apiKey
        ? `the API key${from('apiKey')} is not valid for namespace ${settings.namespace}: check the key, its expiry and the namespace`
        : 'the server wants credentials: set TEMPORAL_API_KEY (Temporal Cloud API key), temporal.apiKey in the configuration, ' +
            'or a client certificate (TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH)',
      'temporal-unauthenticated',
    );
  }
  if (code === 7 || /permission denied|PermissionDenied/i.test(sdk)) {
    return fail(
      `the server denied access: ${sdk}`,
      `check that the identity (API key or client certificate) has access to namespace ${settings.namespace}`,
      'temporal-permission-denied',
    );
  }

  const useTls = settings.tls !== 'off';
  const result = await probe(settings, useTls);
  if (result.kind === 'tcp') {
    return fail(
      `nothing answers at ${settings.address} (${result.code})${from('address')}`,
      'check the address (--address, temporal.address, TEMPORAL_ADDRESS or the profile), or start a server: temporal server start-dev',
      'temporal-unreachable',
    );
  }
  if (useTls && result.kind === 'tls') {
    if (UNTRUSTED.has(result.code)) {
      return fail(
        `the server's TLS certificate is not trusted (${result.code})${settings.sources.serverCa ? `by the CA${from('serverCa')}` : ''}`,
        "give the CA that issued the server's certificate: --tls-ca-path, temporal.tls.serverCaFile, " +
          'TEMPORAL_TLS_SERVER_CA_CERT_PATH or tls.server_ca_cert_path in the profile',
        'temporal-tls-untrusted',
      );
    }
    if (result.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      return fail(
        `the server's TLS certificate does not name ${settings.tlsMaterial?.serverName ?? splitAddress(settings.address).host}: ${result.message}`,
        'connect by a name the certificate carries, or set the name to expect: --tls-server-name, ' +
          'temporal.tls.serverName, TEMPORAL_TLS_SERVER_NAME or tls.server_name in the profile',
        'temporal-tls-server-name',
      );
    }
    if (/CERTIFICATE_REQUIRED|certificate required/i.test(`${result.code} ${result.message}`)) {
      return fail(
        'the server requires a client certificate (mTLS) and none is configured',
        'give the client certificate and its key: --tls-cert-path and --tls-key-path, temporal.tls.clientCertFile and ' +
          'clientKeyFile, TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH, or tls.client_cert_path and ' +
          'client_key_path in the profile',
        'temporal-mtls-required',
      );
    }
    if (
      /UNKNOWN_CA|BAD_CERTIFICATE|bad certificate|unknown ca|CERTIFICATE_UNKNOWN|DECRYPT_ERROR/i.test(
        `${result.code} ${result.message}`,
      )
    ) {
      return fail(
        `the server refused the client certificate${from('clientCert')}: ${result.message}`,
        'use a client certificate issued by a CA the server trusts for this namespace',
        'temporal-mtls-refused',
      );
    }
    if (
      /WRONG_VERSION_NUMBER|wrong version number|packet length too long|unknown protocol/i.test(
        `${result.code} ${result.message}`,
      )
    ) {
      return fail(
        `the server at ${settings.address} does not speak TLS (TLS${from('tls')})`,
        'turn TLS off for it (TEMPORAL_TLS=false, temporal.tls: false, or tls.disabled = true in the profile), ' +
          'or connect to its TLS port',
        'temporal-tls-not-served',
      );
    }
    return fail(`TLS failed: ${result.message}`, 'check the TLS settings against the server', 'temporal-tls');
  }
  if (useTls && result.kind === 'closed' && settings.tls === 'mtls') {
    return fail(
      `the server closed the connection after the TLS handshake: it may not accept the client certificate${from('clientCert')}`,
      'use a client certificate issued by a CA the server trusts for this namespace',
      'temporal-mtls-refused',
    );
  }
  if (!useTls && result.kind !== 'ok') {
    const overTls = await probe({ ...settings, tlsMaterial: {} }, true);
    if (overTls.kind === 'ok' || (overTls.kind === 'tls' && UNTRUSTED.has(overTls.code))) {
      return fail(
        `the server at ${settings.address} speaks TLS, and TLS is off`,
        "turn TLS on with the server's CA: --tls-ca-path, TEMPORAL_TLS_SERVER_CA_CERT_PATH (or TEMPORAL_TLS=true for a " +
          'publicly trusted certificate), temporal.tls in the configuration, or [profile.NAME.tls] in the profile',
        'temporal-tls-required',
      );
    }
  }
  return fail(
    sdk,
    'check that a Temporal server answers at that address with these settings (temporal operator cluster health ' +
      '--address ADDRESS), or start one: temporal server start-dev',
    'temporal-unreachable',
  );
}
