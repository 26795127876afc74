import { createClient, type RedisClientOptions } from 'redis';

/** A node-redis client as `createClient` (of the `redis` package) returns it. */
export type RedisSession = ReturnType<typeof createClient>;

let template: RedisSession | undefined;

/**
 * A new, unconnected node-redis client for `options` (each call is its own connection: probes must prove a fresh
 * TCP + TLS + AUTH path). `createClient` builds a client class with every command of the core and the modules on
 * each call whose options differ from the previous one — ~60 ms of CPU, every probe and data-plane session of a
 * large evacuation paying it. `duplicate` of one never-connected template reuses that class; every connection
 * setting comes from `options`.
 */
export function newRedisClient(options: Pick<RedisClientOptions, 'username' | 'password' | 'socket'>): RedisSession {
  template ??= createClient({ maintNotifications: 'disabled', socket: { reconnectStrategy: false } });
  return template.duplicate({
    maintNotifications: 'disabled',
    ...(options.username !== undefined ? { username: options.username } : {}),
    ...(options.password !== undefined ? { password: options.password } : {}),
    ...(options.socket !== undefined ? { socket: options.socket } : {}),
  });
}
