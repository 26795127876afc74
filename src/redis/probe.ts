import net from 'node:net';
import tls from 'node:tls';
import { newRedisClient } from './client';

export type ProbeStage = 'tcp' | 'tls' | 'auth' | 'ping';
export type ProbeOutcome = 'ok' | 'refused' | 'timeout' | 'tls-error' | 'auth-error' | 'error';

export interface ProbeTarget {
  /** HOST:PORT as this application region reaches the database (its private endpoint). */
  address: string;
  /** Name the TLS certificate must carry (the cluster hostName ARM reports). */
  hostName: string;
  tls: boolean;
  /** The ACL user (Microsoft Entra ID: the principal's object id); absent: the default user (an access key). */
  username?: string;
  /** The access key, or an Entra ID token for https://redis.azure.com. */
  password: string;
  /** Extra CA to trust, PEM (the emulator's); real Azure needs none. */
  caPem?: string;
  timeoutMs: number;
}

export interface ProbeResult {
  address: string;
  outcome: ProbeOutcome;
  /** the last stage that passed, or null when even TCP failed */
  passed: ProbeStage | null;
  /** the stage that failed */
  failedStage?: ProbeStage;
  tcpMs?: number;
  /** connect + TLS + AUTH + PING round trip */
  totalMs?: number;
  error?: string;
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i), port: Number(address.slice(i + 1)) };
}

function tcpConnect(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ ok: true; ms: number } | { ok: false; outcome: ProbeOutcome; error: string }> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (r: Parameters<typeof resolve>[0]): void => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () =>
      done({ ok: false, outcome: 'timeout', error: `no TCP answer within ${timeoutMs} ms` }),
    );
    socket.once('connect', () => done({ ok: true, ms: performance.now() - started }));
    socket.once('error', (e: NodeJS.ErrnoException) =>
      done({
        ok: false,
        outcome: e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' ? 'refused' : 'error',
        error: `${e.code ?? 'error'}: ${e.message}`,
      }),
    );
  });
}

const STAGES: ProbeStage[] = ['tcp', 'tls', 'auth', 'ping'];

function classify(e: unknown): { outcome: ProbeOutcome; error: string } {
  const err = e as NodeJS.ErrnoException;
  const error = `${err.code ? `${err.code}: ` : ''}${err.message ?? String(e)}`;
  if (/WRONGPASS|NOAUTH|invalid password|invalid username-password/i.test(error))
    return { outcome: 'auth-error', error };
  if (/CERT|SSL|TLS|self.signed|altname|unable to verify|EPROTO/i.test(error)) return { outcome: 'tls-error', error };
  if (/timeout/i.test(error)) return { outcome: 'timeout', error };
  if (/ECONNREFUSED|ECONNRESET|Socket closed unexpectedly/i.test(error)) return { outcome: 'refused', error };
  return { outcome: 'error', error };
}

/**
 * Probes one Redis endpoint the way an application in a region would reach it: TCP connect, TLS
 * (verified against hostName), AUTH and PING, each bounded by timeoutMs. Never throws: the result
 * names the stage that failed, so a blocked firewall reads differently from a wrong key.
 */
export async function probeRedisEndpoint(target: ProbeTarget): Promise<ProbeResult> {
  const { host, port } = splitAddress(target.address);
  const tcp = await tcpConnect(host, port, target.timeoutMs);
  if (!tcp.ok) {
    return { address: target.address, outcome: tcp.outcome, passed: null, failedStage: 'tcp', error: tcp.error };
  }
  const started = performance.now();
  const common = {
    host,
    port,
    connectTimeout: target.timeoutMs,
    socketTimeout: target.timeoutMs,
    reconnectStrategy: false as const,
  };
  const client = newRedisClient({
    ...(target.username !== undefined ? { username: target.username } : {}),
    password: target.password,
    socket: target.tls
      ? {
          ...common,
          tls: true,
          ca: target.caPem,
          // SNI carries the cluster's DNS name; a certificate that names an IP is checked against that IP,
          // not against the private endpoint's address we connect to.
          ...(net.isIP(target.hostName)
            ? {
                checkServerIdentity: (_host: string, cert: tls.PeerCertificate) =>
                  tls.checkServerIdentity(target.hostName, cert),
              }
            : { servername: target.hostName }),
        }
      : common,
  });
  let lastError: unknown;
  client.on('error', (e: unknown) => (lastError = e));
  // The stage we are in when something fails: connect() does TLS (if any) and AUTH, then PING.
  let stage: ProbeStage = target.tls ? 'tls' : 'auth';
  try {
    await client.connect();
    stage = 'ping';
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
    return {
      address: target.address,
      outcome: 'ok',
      passed: 'ping',
      tcpMs: tcp.ms,
      totalMs: performance.now() - started,
    };
  } catch (e) {
    const c = classify(lastError ?? e);
    const failedStage = c.outcome === 'auth-error' ? 'auth' : c.outcome === 'tls-error' ? 'tls' : stage;
    const passed = STAGES[STAGES.indexOf(failedStage) - 1] ?? null;
    return { address: target.address, outcome: c.outcome, passed, failedStage, tcpMs: tcp.ms, error: c.error };
  } finally {
    if (client.isOpen) client.destroy();
  }
}
