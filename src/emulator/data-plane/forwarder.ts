import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import type { Address, FirewallMode } from './types';

/**
 * Where a forwarded connection goes: a redis-server's address (bytes piped as they are), or a handler that takes
 * the client socket over (the shared shape terminates TLS and selects the database); `track` registers sockets
 * the firewall must destroy with the client's.
 */
export type Upstream = Address | ((client: Socket, track: (socket: Socket) => void) => void);

const RELISTEN_ATTEMPTS = 40;
const RELISTEN_DELAY_IN_MS = 50;

/**
 * A private endpoint: a plain TCP proxy from one application region to one database. TLS passes through
 * untouched, so clients still verify the redis-server's certificate. Its firewall mode decides what happens
 * to new connections:
 * - open: forwarded; if the database is down the client socket is reset at once;
 * - refuse: the listener is closed, so connecting fails with ECONNREFUSED (the port is re-bound on reopening);
 * - blackhole: accepted, then never answered nor forwarded, so the client times out.
 */
export class Forwarder {
  readonly #host: string;
  readonly #upstream: Upstream;
  readonly #latencyMs: () => number;
  #port = 0;
  #mode: FirewallMode;
  #server: Server | undefined;
  #closed = false;
  #relistenTimer: NodeJS.Timeout | undefined;
  readonly #sockets = new Set<Socket>();
  readonly #onError: (error: Error) => void;

  private constructor(
    host: string,
    upstream: Upstream,
    mode: FirewallMode,
    onError: (error: Error) => void,
    latencyMs: () => number,
  ) {
    this.#host = host;
    this.#upstream = upstream;
    this.#latencyMs = latencyMs;
    this.#mode = mode;
    this.#onError = onError;
  }

  /**
   * Binds a random port on `host` (kept for the forwarder's lifetime) and forwards to `upstream`.
   * `onError` hears about a port that could not be re-bound after a refuse period; `latencyMs` (read per
   * connection) delays each new connection before it is forwarded: an emulated network latency.
   */
  static async listen(
    host: string,
    upstream: Upstream,
    options: { mode?: FirewallMode; onError?: (error: Error) => void; latencyMs?: () => number } = {},
  ): Promise<Forwarder> {
    const forwarder = new Forwarder(
      host,
      upstream,
      options.mode ?? 'open',
      options.onError ?? (() => undefined),
      options.latencyMs ?? (() => 0),
    );
    const server = forwarder.#createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: 0 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('forwarder has no TCP address');
    forwarder.#port = address.port;
    forwarder.#server = server;
    if (forwarder.#mode === 'refuse') forwarder.#closeListener();
    return forwarder;
  }

  get address(): Address {
    return { host: this.#host, port: this.#port };
  }

  get mode(): FirewallMode {
    return this.#mode;
  }

  /** Applies a firewall mode at once; connections made under the previous mode are destroyed. */
  setMode(mode: FirewallMode): void {
    if (this.#closed || mode === this.#mode) return;
    this.#mode = mode;
    this.#destroyConnections();
    if (mode === 'refuse') {
      this.#closeListener();
    } else if (this.#server === undefined) {
      this.#relisten(0);
    }
  }

  /** Resets every connection (its database stopped); the mode stays. */
  dropConnections(): void {
    this.#destroyConnections();
  }

  /** Stops listening and destroys every connection; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#relistenTimer);
    const server = this.#server;
    this.#server = undefined;
    this.#destroyConnections();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  #createServer(): Server {
    const server = createServer((socket) => this.#accept(socket));
    server.on('error', (error) => this.#onError(error));
    return server;
  }

  #closeListener(): void {
    clearTimeout(this.#relistenTimer);
    this.#relistenTimer = undefined;
    // close() releases the listening socket synchronously: the next SYN already meets a closed port.
    this.#server?.close();
    this.#server = undefined;
  }

  #relisten(attempt: number): void {
    const server = createServer((socket) => this.#accept(socket));
    const onListenError = (error: NodeJS.ErrnoException): void => {
      if (this.#server === server) this.#server = undefined;
      server.close();
      if (this.#closed || this.#mode === 'refuse') return;
      if (error.code === 'EADDRINUSE' && attempt + 1 < RELISTEN_ATTEMPTS) {
        this.#relistenTimer = setTimeout(() => this.#relisten(attempt + 1), RELISTEN_DELAY_IN_MS);
      } else {
        this.#onError(
          new Error(`private endpoint ${this.#host}:${this.#port} could not listen again`, { cause: error }),
        );
      }
    };
    server.once('error', onListenError);
    server.once('listening', () => {
      server.off('error', onListenError);
      server.on('error', (error) => this.#onError(error));
    });
    // Node resolves an IP literal on the next tick and binds then: before any I/O this process could do.
    server.listen({ host: this.#host, port: this.#port });
    this.#server = server;
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#closed || this.#mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    this.#track(client);
    if (this.#mode === 'blackhole') {
      // Read nothing, answer nothing: the client's handshake or first command hangs until its own timeout.
      client.pause();
      return;
    }
    client.setNoDelay(true);
    const latency = this.#latencyMs();
    if (latency > 0) {
      // Read nothing until the emulated latency has passed: the TLS handshake or first reply waits for it.
      client.pause();
      const timer = setTimeout(() => {
        if (client.destroyed || this.#closed || this.#mode !== 'open') return;
        // Whoever takes the bytes resumes the socket (pipe does), so nothing is read before it listens.
        this.#forward(client);
      }, latency);
      client.once('close', () => clearTimeout(timer));
      return;
    }
    this.#forward(client);
  }

  #forward(client: Socket): void {
    if (typeof this.#upstream === 'function') {
      this.#upstream(client, (socket) => this.#track(socket));
      return;
    }
    const upstream = connect({ host: this.#upstream.host, port: this.#upstream.port });
    upstream.setNoDelay(true);
    this.#track(upstream);
    // Database down (or gone mid-connection): reset the client at once rather than leave it waiting.
    upstream.on('error', () => resetSocket(client));
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => this.#sockets.delete(socket));
  }

  #destroyConnections(): void {
    for (const socket of this.#sockets) resetSocket(socket);
    this.#sockets.clear();
  }
}

/** Closes with RST, so the peer sees ECONNRESET at once instead of a clean end of stream. */
function resetSocket(socket: Socket): void {
  if (socket.destroyed) return;
  // resetAndDestroy() on a socket still connecting would wait for the connection first.
  if (socket.connecting) {
    socket.destroy();
    return;
  }
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}
