import { createServer } from 'node:net';

/**
 * A TCP port that was free on `host` a moment ago. Another process may take it before the caller binds it,
 * so callers that hand it to redis-server retry on "address already in use".
 */
export async function findFreePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') {
    throw new Error(`could not read the port bound on ${host}`);
  }
  return address.port;
}
