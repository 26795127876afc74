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

interface Stage {
  from: string;
  name?: string;
  /** [instruction, arguments], continuation lines joined */
  instructions: [string, string][];
}

/** The Dockerfile's stages: comments dropped, `\` continuations joined. */
function dockerfileStages(text: string): Stage[] {
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  for (const line of logical) {
    const [, instruction = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    if (instruction.toUpperCase() === 'FROM') {
      const [from = '', , name] = args.split(/\s+/);
      stages.push({ from, name, instructions: [] });
    } else stages.at(-1)?.instructions.push([instruction.toUpperCase(), args]);
  }
  return stages;
}

/** The sources of a COPY from the build context (not --from), and its destination. */
function copySources(args: string): { sources: string[]; fromStage?: string } {
  const words = args.split(/\s+/);
  const fromStage = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
  const plain = words.filter((w) => !w.startsWith('--'));
  return { sources: plain.slice(0, -1), fromStage };
}

describe('Dockerfile', () => {
  const stages = dockerfileStages(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const dockerignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  const build = stages[0]!;
  const runtime = stages.at(-1)!;
  const runs = (stage: Stage): string[] => stage.instructions.filter(([i]) => i === 'RUN').map(([, a]) => a);

  it('builds on Node 22 LTS with glibc (bookworm-slim) in every stage', () => {
    assert.ok(stages.length >= 2, 'a build stage and a run-time stage');
    for (const stage of stages) assert.match(stage.from, /^node:22(\.\d+)*-bookworm-slim$/);
  });

  it('copies only inputs that exist in the repository and .dockerignore lets through', () => {
    for (const stage of stages) {
      for (const [instruction, args] of stage.instructions) {
        if (instruction !== 'COPY') continue;
        const { sources, fromStage } = copySources(args);
        if (fromStage) {
          assert.ok(
            stages.some((s) => s.name === fromStage),
            `COPY --from=${fromStage}: a stage of this Dockerfile`,
          );
          continue;
        }
        for (const source of sources) {
          assert.ok(existsSync(path.join(ROOT, source)), `COPY ${source}: in the repository`);
          const top = source.replace(/^\.\//, '').split('/')[0]!;
          assert.ok(!dockerignore.includes(top), `COPY ${source}: not excluded by .dockerignore`);
        }
      }
    }
  });

  it('packs the package in the build stage from everything package.json ships', () => {
    assert.ok(
      runs(build).some((r) => /\bnpm pack\b/.test(r)),
      'the build stage runs npm pack (prepack builds dist/)',
    );
    const copied = build.instructions
      .filter(([i]) => i === 'COPY')
      .flatMap(([, a]) => copySources(a).sources.map((s) => s.replace(/^\.\//, '').replace(/\/$/, '')));
    for (const input of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src']) {
      assert.ok(copied.includes(input), `the build stage copies ${input}`);
    }
    for (const shipped of pkg.files.map((f) => f.replace(/\/$/, ''))) {
      if (shipped === 'dist') continue; // the build makes it
      assert.ok(
        copied.some((c) => shipped === c || shipped.startsWith(`${c}/`)),
        `the build stage copies ${shipped} (package.json files)`,
      );
    }
  });

  it('installs the packed package, not the sources, in the run-time stage', () => {
    const copies = runtime.instructions.filter(([i]) => i === 'COPY').map(([, a]) => copySources(a));
    const tarball = copies.find((c) => c.fromStage === build.name && c.sources.some((s) => s.endsWith('.tgz')));
    assert.ok(tarball, 'the run-time stage copies the .tgz from the build stage');
    const tgz = path.basename(tarball.sources.find((s) => s.endsWith('.tgz'))!);
    assert.ok(
      runs(runtime).some((r) => r.includes(tgz) && /\bnpm (ci|install)\b/.test(r)),
      `the run-time stage installs ${tgz}`,
    );
    for (const c of copies.filter((c) => !c.fromStage)) {
      for (const source of c.sources) {
        assert.doesNotMatch(source, /^(\.\/)?(src|bin|scripts)\b/, `no sources copied into the image: ${source}`);
      }
    }
  });

  it('runs as a non-root user, the installed geofailover as its entry point', () => {
    const users = runtime.instructions.filter(([i]) => i === 'USER').map(([, a]) => a.trim());
    assert.ok(users.length > 0, 'the run-time stage sets USER');
    assert.doesNotMatch(users.at(-1)!, /^(root|0)(:|$)/, 'the last USER is not root');
    const entrypoint = runtime.instructions.find(([i]) => i === 'ENTRYPOINT')?.[1];
    assert.deepEqual(JSON.parse(entrypoint ?? 'null'), ['geofailover']);
  });
});
