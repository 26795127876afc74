// No Docker engine runs on our machines, so CI proves what it can of docker-compose.yml: it parses, every
// service it depends on exists, every file it mounts or builds from is in the repository, every image is
// pinned, and the geofailover commands it runs are commands our CLI has.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../..');
const OUTPUT_DIR = './evidence';

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  depends_on?: Record<string, { condition: string }> | string[];
  volumes?: string[];
  command?: string[];
  entrypoint?: string[];
  network_mode?: string;
}

describe('docker-compose.yml', () => {
  const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
    services: Record<string, Service>;
    volumes?: Record<string, unknown>;
  };
  const services = compose.services;

  it('has the production-like stack: PostgreSQL, schema and namespace jobs, server, UI, workers', () => {
    const images = Object.values(services).map((s) => s.image ?? '');
    for (const image of ['postgres:', 'temporalio/admin-tools:', 'temporalio/server:', 'temporalio/ui:']) {
      assert.ok(
        images.some((i) => i.startsWith(image)),
        `an image ${image}*`,
      );
    }
    assert.ok(services['geofailover-worker'], 'the geofailover worker');
    assert.ok(Object.keys(services).some((n) => n.startsWith('geofailover-probe-')));
  });

  it('pins every image to a version, never latest', () => {
    for (const [name, s] of Object.entries(services)) {
      if (!s.image) continue;
      assert.match(s.image, /:[\w.-]+$/, `${name} pins its image`);
      assert.doesNotMatch(s.image, /:latest$/, `${name} does not use latest`);
    }
  });

  it('depends only on services that exist', () => {
    for (const [name, s] of Object.entries(services)) {
      const deps = Array.isArray(s.depends_on) ? s.depends_on : Object.keys(s.depends_on ?? {});
      for (const dep of deps) assert.ok(services[dep], `${name} depends on ${dep}, which exists`);
      const shared = s.network_mode?.match(/^service:(.+)$/)?.[1];
      if (shared) assert.ok(services[shared], `${name} shares the network of ${shared}, which exists`);
    }
  });

  it('builds from a Dockerfile on a glibc base and mounts only files in the repository', () => {
    for (const [name, s] of Object.entries(services)) {
      if (s.build) {
        const context = typeof s.build === 'string' ? s.build : s.build.context;
        const dockerfile = typeof s.build === 'string' ? 'Dockerfile' : (s.build.dockerfile ?? 'Dockerfile');
        const file = path.join(ROOT, context, dockerfile);
        assert.ok(existsSync(file), `${name} builds from ${file}`);
        assert.doesNotMatch(readFileSync(file, 'utf8'), /FROM\s+\S*alpine/i, 'the Temporal native module needs glibc');
      }
      for (const volume of s.volumes ?? []) {
        // `${VAR:-./default}:/target` mounts the default unless the user sets VAR.
        const source = /^\$\{[A-Z_]+:-([^}]+)\}/.exec(volume)?.[1] ?? volume.split(':')[0]!;
        // Where the drill writes its evidence is an output: Docker creates it; a clean clone has none.
        if (source === OUTPUT_DIR) continue;
        if (source.startsWith('.')) assert.ok(existsSync(path.join(ROOT, source)), `${name} mounts ${source}`);
        else assert.ok(compose.volumes && source in compose.volumes, `${name} uses the named volume ${source}`);
      }
    }
  });

  it('runs geofailover commands the CLI has', () => {
    const main = readFileSync(path.join(ROOT, 'src/cli/main.ts'), 'utf8');
    for (const [name, s] of Object.entries(services)) {
      if (!s.build || !s.command) continue;
      const command = s.command[0]!;
      assert.ok(
        existsSync(path.join(ROOT, 'src/cli/commands', `${command}.ts`)) || main.includes(`'${command}'`),
        `${name} runs \`geofailover ${command}\``,
      );
    }
  });
});
