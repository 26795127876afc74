// A database of the emulator keeps its port across an outage (the port is its identity): the port comes from below
// the kernel's ephemeral range, where no outgoing connection or port-0 listener of another process can take it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { findFreePort } from '../../src/emulator/data-plane/free-port';

describe('free ports for the emulated data plane', () => {
  it('a stable port lies below the ephemeral range and can be bound; a plain one is any free port', async () => {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    const ports = await Promise.all(Array.from({ length: 5 }, () => findFreePort('127.0.0.1', { stable: true })));
    for (const port of ports) {
      assert.ok(port >= 20000 && port < low, `${port} is below the ephemeral range (from ${low})`);
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: '127.0.0.1', port, exclusive: true }, resolve);
      });
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    const plain = await findFreePort('127.0.0.1');
    assert.ok(plain > 0 && plain < 65536);
  });
});
