// Traces leave the worker by OTLP/HTTP: the tracer the worker's interceptors use exports its spans, with the
// configured service name, to the configured endpoint (here a collector stand-in on 127.0.0.1).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTracing } from '../../src/observability/tracing';

describe('OTLP/HTTP trace export', function () {
  this.timeout(20_000);
  let server: Server;
  const posts: { url?: string; type?: string; body: string }[] = [];

  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        posts.push({ url: req.url, type: req.headers['content-type'], body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('exports spans to observability.tracing.endpoint with the service name', async () => {
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
    const tracing = createTracing({ endpoint, serviceName: 'geofailover-otlp-test' });
    tracing.tracer.startActiveSpan('RunActivity:describeMember', (span) => span.end());
    await tracing.shutdown();
    assert.equal(posts.length, 1, 'one export at shutdown');
    assert.equal(posts[0]!.url, '/v1/traces');
    const body = posts[0]!.body;
    assert.ok(body.includes('RunActivity:describeMember'), body);
    assert.ok(body.includes('geofailover-otlp-test'), 'service.name travels with the spans');
  });
});
