// A TLS (optionally mTLS) front for a plain-text Temporal dev server, as platform teams put one in front of
// Temporal: `temporal server start-dev` serves no TLS itself. Decrypted bytes go unchanged to the server's gRPC port
// (HTTP/2 with prior knowledge), so whatever a client says over TLS reaches the real server.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import {
  createCertificateAuthority,
  issueServerCertificate,
  type CertificateAuthority,
} from '../../src/emulator/certificates';

export interface TlsProxyOptions {
  /** the dev server's HOST:PORT */
  upstream: string;
  /** the server's certificate authority (clients trust its cert) */
  ca: CertificateAuthority;
  /** DNS names on the server certificate; default ['localhost'] (and always 127.0.0.1 as an IP) */
  dnsNames?: string[];
  /** require a client certificate issued by this CA (mTLS) */
  clientCa?: CertificateAuthority;
  /** called with the headers block of each HTTP/2 stream start the proxy can read (API key checks) */
  onClientBytes?: (chunk: Buffer) => void;
}

export interface TlsProxy {
  /** 127.0.0.1:PORT */
  address: string;
  port: number;
  /** connections whose TLS handshake completed */
  accepted: number;
  /** handshakes the proxy refused (no or untrusted client certificate, ...) */
  refused: number;
  close(): Promise<void>;
}

/** A throwaway CA for tests (server or client side). */
export function testCa(name: string): Promise<CertificateAuthority> {
  return createCertificateAuthority(name);
}

/** A client certificate (clientAuth) issued by `ca`. */
export function issueClientCertificate(ca: CertificateAuthority, name: string): Promise<{ cert: string; key: string }> {
  return issueServerCertificate(ca, { dns: [name] });
}

/** Starts the proxy on a free loopback port. */
export async function startTlsProxy(options: TlsProxyOptions): Promise<TlsProxy> {
  const serverCert = await issueServerCertificate(options.ca, {
    dns: options.dnsNames ?? ['localhost'],
    ips: ['127.0.0.1'],
  });
  const [upHost, upPort] = splitAddress(options.upstream);
  const sockets = new Set<net.Socket>();
  const state = { accepted: 0, refused: 0 };
  const server = tls.createServer(
    {
      cert: serverCert.cert,
      key: serverCert.key,
      ALPNProtocols: ['h2'],
      ...(options.clientCa ? { requestCert: true, rejectUnauthorized: true, ca: [options.clientCa.cert] } : {}),
    },
    (client) => {
      state.accepted++;
      sockets.add(client);
      const upstream = net.connect(upPort, upHost);
      sockets.add(upstream);
      if (options.onClientBytes) client.on('data', (chunk: Buffer) => options.onClientBytes!(chunk));
      client.pipe(upstream);
      upstream.pipe(client);
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', end);
      upstream.on('error', end);
      client.on('close', end);
      upstream.on('close', end);
    },
  );
  server.on('tlsClientError', () => state.refused++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    port,
    get accepted() {
      return state.accepted;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

export interface GrpcProxyOptions {
  upstream: string;
  ca: CertificateAuthority;
  /** when set, calls without `authorization: Bearer <apiKey>` are answered UNAUTHENTICATED, as Temporal Cloud does */
  apiKey?: string;
}

export interface GrpcProxy {
  /** localhost:PORT */
  address: string;
  /** the `authorization` header of every call, in order */
  authorizations: (string | undefined)[];
  close(): Promise<void>;
}

const HOP_HEADERS = new Set([':method', ':path', ':scheme', ':authority', 'connection', 'host']);

/**
 * A TLS gRPC front that reads each call's headers (HTTP/2 terminated here, each stream forwarded to the plain-text
 * server), so a test sees exactly what the client sends: the API key as `authorization: Bearer …`.
 */
export async function startGrpcProxy(options: GrpcProxyOptions): Promise<GrpcProxy> {
  const serverCert = await issueServerCertificate(options.ca, { dns: ['localhost'], ips: ['127.0.0.1'] });
  const upstream = http2.connect(`http://${options.upstream}`);
  upstream.on('error', () => undefined);
  const authorizations: (string | undefined)[] = [];
  const server = http2.createSecureServer({ cert: serverCert.cert, key: serverCert.key, allowHTTP1: false });
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
  });
  server.on('stream', (stream, headers) => {
    const authorization = headers.authorization;
    authorizations.push(authorization);
    if (options.apiKey !== undefined && authorization !== `Bearer ${options.apiKey}`) {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'Request unauthorized.',
        },
        { endStream: true },
      );
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = { ':method': 'POST', ':path': headers[':path'] };
    for (const [k, v] of Object.entries(headers)) if (!HOP_HEADERS.has(k)) forwarded[k] = v;
    const call = upstream.request(forwarded);
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('response', (h, flags) => {
      const { ':status': status, ...rest } = h;
      if (stream.destroyed) return;
      // A trailers-only answer (a gRPC error): headers with END_STREAM, the status among them.
      const endStream = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      stream.respond({ ':status': status, ...rest }, endStream ? { endStream: true } : { waitForTrailers: true });
    });
    call.on('trailers', (t) => (trailers = t));
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.on('error', () => stream.destroy());
    stream.on('error', () => call.destroy());
    stream.on('close', () => call.destroy());
    stream.pipe(call);
    call.pipe(stream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `localhost:${port}`,
    authorizations,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        upstream.destroy();
        server.close(() => resolve());
      }),
  };
}
