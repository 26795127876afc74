// Signed decisions: our SSHSIG signatures must be checkable by an auditor with plain `ssh-keygen -Y verify`,
// signatures people make with `ssh-keygen -Y sign` must verify here, and no input may crash a verifier
// (it runs inside the workflow sandbox, where a throw fails the workflow task).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import type { WorkflowBundle } from '@temporalio/worker';
import fc from 'fast-check';
import {
  allowedSigners,
  canonicalStatement,
  formatPublicKey,
  parsePublicKey,
  parseStatement,
  SIGNING_NAMESPACE,
  signSshSig,
  statementRefusal,
  verifyProof,
  verifySshSig,
  type Proof,
  type Statement,
  type StatementExpectation,
} from '../../src/signing';
import { generateKeyPair, newNonce, readPrivateKey, signStatement } from '../../src/signing/node-keys';
import { installTestRuntime } from '../helpers/temporal';

const NOW = Date.parse('2025-06-01T12:00:00.000Z');
const MINUTE = 60_000;
const iso = (ms: number): string => new Date(ms).toISOString();
const TARGET = '/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redisEnterprise/west/databases/default';

function statement(overrides: Partial<Statement> = {}): Statement {
  return {
    v: 1,
    action: 'approve',
    actor: 'alice',
    workflowId: 'failover-orders',
    runId: 'run-1',
    gate: 'approval-unlink',
    gateInstance: 0,
    targets: [TARGET],
    comment: 'west is down for good',
    issuedAt: iso(NOW - MINUTE),
    expiresAt: iso(NOW + 60 * MINUTE),
    nonce: '0123456789abcdef0123456789abcdef',
    ...overrides,
  };
}

/** Runs ssh-keygen; a missing binary fails the test with what to install rather than ENOENT. */
function sshKeygen(args: string[], options: { input?: string; cwd?: string } = {}): { stdout: string; stderr: string } {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8', timeout: 20_000, ...options });
  if (r.error) {
    const missing = (r.error as NodeJS.ErrnoException).code === 'ENOENT';
    throw new Error(
      missing
        ? 'ssh-keygen is not installed: these tests check interoperability with OpenSSH. Install openssh-client ' +
            '(`apt-get install -y openssh-client`; scripts/tools.mjs installs it on CI).'
        : `ssh-keygen ${args.join(' ')} did not run: ${r.error.message}`,
    );
  }
  if (r.status !== 0) throw new Error(`ssh-keygen ${args.join(' ')} exited ${r.status}: ${r.stderr.trim()}`);
  return { stdout: r.stdout, stderr: r.stderr };
}

/** Exit status of ssh-keygen, for checks that are expected to fail. */
function sshKeygenStatus(args: string[], input?: string): number | null {
  const r = spawnSync('ssh-keygen', args, { encoding: 'utf8', timeout: 20_000, input });
  if (r.error) throw r.error;
  return r.status;
}

describe('signing', () => {
  let dir: string;
  let alice: ReturnType<typeof generateKeyPair>;
  let bob: ReturnType<typeof generateKeyPair>;
  let keyring: Record<string, string[]>;

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'geofailover-signing-'));
    alice = generateKeyPair('alice@laptop');
    bob = generateKeyPair('bob@laptop');
    keyring = { alice: [alice.publicKeyLine], bob: [bob.publicKeyLine] };
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  function aliceProof(overrides: Partial<Statement> = {}): Proof {
    return signStatement(statement(overrides), readPrivateKey(alice.privateKeyPem));
  }

  /** An ed25519 key made by ssh-keygen itself. */
  function sshKeygenKey(name: string, extra: string[] = ['-N', '']): { file: string; publicKeyLine: string } {
    const file = path.join(dir, name);
    sshKeygen(['-q', '-t', 'ed25519', '-C', `${name}@host`, '-f', file, ...extra]);
    return { file, publicKeyLine: readFileSync(`${file}.pub`, 'utf8').trim() };
  }

  describe('interoperability with OpenSSH ssh-keygen', () => {
    it('an auditor verifies our proof with ssh-keygen -Y verify and the allowed_signers file we write', () => {
      const proof = aliceProof();
      writeFileSync(path.join(dir, 'allowed_signers'), allowedSigners(keyring));
      writeFileSync(path.join(dir, 'statement.json'), proof.statement);
      writeFileSync(path.join(dir, 'statement.sig'), proof.signature);
      const verify = (name: string): string[] => [
        '-Y',
        'verify',
        '-f',
        path.join(dir, 'allowed_signers'),
        '-I',
        name,
        '-n',
        SIGNING_NAMESPACE,
        '-s',
        path.join(dir, 'statement.sig'),
      ];
      const { stdout } = sshKeygen(verify('alice'), { input: proof.statement });
      const fingerprint = parsePublicKey(alice.publicKeyLine);
      assert.ok(fingerprint.ok);
      assert.equal(
        stdout.trim(),
        `Good "geofailover" signature for alice with ED25519 key ${fingerprint.key.fingerprint}`,
      );
      // The same signature is not bob's, and a changed statement is not alice's.
      assert.notEqual(sshKeygenStatus(verify('bob'), proof.statement), 0);
      assert.notEqual(sshKeygenStatus(verify('alice'), proof.statement.replace('west is down', 'west is up')), 0);
    });

    it('a statement signed with ssh-keygen -Y sign verifies, with the fingerprint ssh-keygen -l prints', () => {
      const carol = sshKeygenKey('carol');
      // Any JSON layout is signable by hand; the proof carries the exact text, trailing newline included.
      const text = `${JSON.stringify(statement({ actor: 'carol' }), null, 2)}\n`;
      const file = path.join(dir, 'carol-statement.json');
      writeFileSync(file, text);
      sshKeygen(['-Y', 'sign', '-f', carol.file, '-n', 'geofailover', file]);
      const proof = { statement: text, signature: readFileSync(`${file}.sig`, 'utf8') };

      const result = verifyProof(proof, { ...keyring, carol: [carol.publicKeyLine] });
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.equal(result.signer, 'carol');
      assert.equal(result.statement.comment, 'west is down for good');
      const printed = sshKeygen(['-l', '-f', `${carol.file}.pub`]).stdout.split(' ')[1];
      assert.equal(result.fingerprint, printed);
    });

    it('a sha256 SSHSIG (ssh-keygen -O hashalg=sha256) verifies too', () => {
      const dave = sshKeygenKey('dave');
      const text = canonicalStatement(statement({ actor: 'dave' }));
      const { stdout: signature } = sshKeygen(
        ['-Y', 'sign', '-f', dave.file, '-n', 'geofailover', '-O', 'hashalg=sha256'],
        { input: text },
      );
      assert.match(signature, /BEGIN SSH SIGNATURE/);
      const result = verifySshSig({ message: text, armored: signature, namespace: SIGNING_NAMESPACE });
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.equal(verifyProof({ statement: text, signature }, { dave: [dave.publicKeyLine] }).ok, true);
    });

    it('readPrivateKey reads an ssh-keygen key, and ssh-keygen reads a key from generateKeyPair', () => {
      const erin = sshKeygenKey('erin');
      assert.equal(readPrivateKey(readFileSync(erin.file, 'utf8')).publicKeyLine, erin.publicKeyLine);

      const generated = generateKeyPair('frank@laptop');
      const file = path.join(dir, 'frank');
      writeFileSync(file, generated.privateKeyPem, { mode: 0o600 });
      assert.equal(sshKeygen(['-y', '-f', file]).stdout.trim(), generated.publicKeyLine);
      // And it signs: what ssh-keygen makes with our key file verifies as frank's.
      const text = canonicalStatement(statement({ actor: 'frank' }));
      const { stdout: signature } = sshKeygen(['-Y', 'sign', '-f', file, '-n', 'geofailover'], { input: text });
      assert.equal(verifyProof({ statement: text, signature }, { frank: [generated.publicKeyLine] }).ok, true);
    });

    it('readPrivateKey says what to do with an encrypted key, a non-ed25519 key or a public key', () => {
      const locked = sshKeygenKey('locked', ['-N', 'correct horse battery staple']);
      assert.throws(
        () => readPrivateKey(readFileSync(locked.file, 'utf8')),
        /encrypted.*unencrypted key file for the CLI.*ssh-keygen -Y sign .*-n geofailover/,
      );
      const ecdsa = path.join(dir, 'ecdsa');
      sshKeygen(['-q', '-t', 'ecdsa', '-N', '', '-f', ecdsa]);
      assert.throws(() => readPrivateKey(readFileSync(ecdsa, 'utf8')), /only ssh-ed25519 keys.*ssh-keygen -t ed25519/);
      assert.throws(() => readPrivateKey(locked.publicKeyLine), /this is a public key/);
    });
  });

  describe('verifyProof', () => {
    it('accepts a proof signed by one of the actor’s keys and names the signer', () => {
      const second = generateKeyPair('alice@desktop');
      const proof = signStatement(statement(), readPrivateKey(second.privateKeyPem));
      const result = verifyProof(proof, { ...keyring, alice: [alice.publicKeyLine, second.publicKeyLine] });
      assert.ok(result.ok, result.ok ? '' : result.reason);
      assert.equal(result.signer, 'alice');
      assert.deepEqual(result.statement, statement());
      assert.equal(
        result.fingerprint,
        (parsePublicKey(second.publicKeyLine) as { key: { fingerprint: string } }).key.fingerprint,
      );
    });

    it('refuses tampering, other namespaces, other people’s keys, unknown people and cut signatures, each for its own reason', () => {
      const proof = aliceProof();
      const aliceKey = readPrivateKey(alice.privateKeyPem);
      const bobFingerprint = (parsePublicKey(bob.publicKeyLine) as { key: { fingerprint: string } }).key.fingerprint;
      const cases: [string, unknown, RegExp][] = [
        [
          'tampered statement',
          { ...proof, statement: proof.statement.replace('west is down', 'east is down') },
          /does not match the signed text/,
        ],
        [
          'other namespace',
          {
            ...proof,
            signature: signSshSig({ message: proof.statement, secretKey: aliceKey.secretKey, namespace: 'file' }),
          },
          /namespace "file", not "geofailover"/,
        ],
        [
          "bob's key on alice's statement",
          signStatement(statement(), readPrivateKey(bob.privateKeyPem)),
          new RegExp(`signed by key ${bobFingerprint.replace(/[+/]/g, '\\$&')}, which is not one of "alice"'s keys`),
        ],
        [
          'unknown actor',
          signStatement(statement({ actor: 'mallory' }), aliceKey),
          /"mallory" is not a person in the worker's configuration/,
        ],
        ['truncated armor', { ...proof, signature: proof.signature.slice(0, 120) }, /does not end with .*truncated/],
        [
          'truncated body',
          { ...proof, signature: proof.signature.replace(/\n[^\n]*\n-----END/, '\n-----END') },
          /truncated/,
        ],
        ['no signature', { statement: proof.statement }, /signature must be text, not missing/],
      ];
      const reasons = new Set<string>();
      for (const [name, input, expected] of cases) {
        const result = verifyProof(input, keyring);
        assert.equal(result.ok, false, name);
        assert.match((result as { reason: string }).reason, expected, name);
        reasons.add((result as { reason: string }).reason);
      }
      assert.equal(reasons.size, cases.length, 'every refusal has its own reason');
      const unknown = verifyProof(cases[3]![1], keyring);
      assert.equal(!unknown.ok && unknown.actor, 'mallory');
    });

    it('says when some of the actor’s configured keys could not be read', () => {
      const result = verifyProof(signStatement(statement(), readPrivateKey(bob.privateKeyPem)), {
        alice: [alice.publicKeyLine, 'ssh-rsa AAAAB3NzaC1yc2E= old'],
      });
      assert.ok(!result.ok);
      assert.match(result.reason, /not one of "alice"'s keys \(1 of their configured keys could not be read\)/);
    });
  });

  describe('statements', () => {
    it('canonicalStatement sorts keys at every level and has no whitespace', () => {
      const s = statement({ action: 'intervene', detail: { reason: 'timeout', action: 'retry' }, targets: ['b', 'a'] });
      assert.equal(
        canonicalStatement(s),
        '{"action":"intervene","actor":"alice","comment":"west is down for good",' +
          '"detail":{"action":"retry","reason":"timeout"},"expiresAt":"2025-06-01T13:00:00.000Z",' +
          '"gate":"approval-unlink","gateInstance":0,"issuedAt":"2025-06-01T11:59:00.000Z",' +
          '"nonce":"0123456789abcdef0123456789abcdef","runId":"run-1","targets":["b","a"],"v":1,' +
          '"workflowId":"failover-orders"}',
      );
      assert.deepEqual(parseStatement(canonicalStatement(s)), { ok: true, statement: s });
    });

    it('parseStatement refuses each malformed field with a reason that names it', () => {
      const text = (o: Record<string, unknown>): string => JSON.stringify({ ...statement(), ...o });
      const cases: [string, string, RegExp][] = [
        ['not JSON', '{"v":1', /not valid JSON/],
        ['an array', '[]', /must be a JSON object, not an array/],
        ['too long', text({ comment: 'x'.repeat(9000) }), /longer than 8192 characters/],
        ['version', text({ v: 2 }), /v must be 1/],
        ['unknown field', text({ approver: 'alice' }), /unknown field "approver"/],
        ['duplicate key', canonicalStatement(statement()).replace('{', '{"action":"reject",'), /given twice/],
        ['escaped duplicate', canonicalStatement(statement()).replace('{', '{"\\u0061ction":"reject",'), /given twice/],
        ['action', text({ action: 'delete' }), /action "delete" is not one of start, approve/],
        ['actor', text({ actor: 'Alice Smith' }), /actor "Alice Smith" is not a person's name/],
        ['workflowId', text({ workflowId: '' }), /workflowId is empty/],
        ['runId', text({ runId: 7 }), /runId must be a string, not a number/],
        ['gateInstance', text({ gateInstance: -1 }), /gateInstance must be null or a whole number/],
        ['targets', text({ targets: Array.from({ length: 33 }, (_, i) => `t${i}`) }), /more than 32 targets/],
        ['target', text({ targets: ['x'.repeat(513)] }), /target is longer than 512/],
        ['comment', text({ comment: 'x'.repeat(2001) }), /comment is longer than 2000/],
        [
          'impossible date',
          text({ issuedAt: '2025-02-30T00:00:00.000Z' }),
          /issuedAt "2025-02-30.*not an ISO 8601 UTC/,
        ],
        ['local time', text({ expiresAt: '2025-06-01T13:00:00+02:00' }), /expiresAt .* not an ISO 8601 UTC/],
        ['order', text({ expiresAt: iso(NOW - 2 * MINUTE) }), /expiresAt is not after its issuedAt/],
        ['nonce', text({ nonce: 'abc' }), /nonce "abc" must be 8 to 128/],
        [
          'nested detail',
          text({ detail: { action: { retry: true } } }),
          /detail\.action must be a string, not an object/,
        ],
        ['detail key', text({ detail: { 'bad key': 'x' } }), /detail key "bad key" is not a plain name/],
      ];
      for (const [name, input, expected] of cases) {
        const result = parseStatement(input);
        assert.ok(!result.ok, name);
        assert.match(result.reason, expected, name);
      }
    });

    it('a reason quotes at most about 80 characters of what it was given', () => {
      const result = parseStatement(JSON.stringify({ ...statement(), actor: `A${'\u0000'.repeat(1000)}` }));
      assert.ok(!result.ok);
      assert.ok(result.reason.length < 200, result.reason);
      assert.match(result.reason, /…"/);
    });
  });

  describe('statementRefusal', () => {
    const expect: StatementExpectation = {
      actions: ['approve', 'reject'],
      workflowId: 'failover-orders',
      runId: 'run-1',
      gate: 'approval-unlink',
      gateInstance: 0,
      targets: [TARGET],
      nowMs: NOW,
    };
    const refusal = (s: Partial<Statement>, e: Partial<StatementExpectation> = {}): string | undefined =>
      statementRefusal(statement(s), { ...expect, ...e });

    it('accepts a statement that matches, including one issued within the clock skew', () => {
      assert.equal(refusal({}), undefined);
      assert.equal(refusal({ issuedAt: iso(NOW + 4 * MINUTE) }), undefined);
      assert.equal(refusal({ runId: null }, { runId: undefined, gate: undefined, gateInstance: undefined }), undefined);
    });

    it('refuses each mismatch with its own sentence', () => {
      const cases: [string, string | undefined, RegExp][] = [
        ['action', refusal({ action: 'abort' }), /is for "abort", but this decision takes "approve or reject"/],
        ['workflow', refusal({ workflowId: 'failover-other' }), /workflow "failover-other", not "failover-orders"/],
        ['run', refusal({ runId: 'run-0' }), /run "run-0", not this run "run-1"/],
        ['no run', refusal({ runId: null }), /run none, not this run "run-1"/],
        ['gate', refusal({ gate: 'approval-rejoin' }), /gate "approval-rejoin", not "approval-unlink"/],
        ['gate instance', refusal({ gateInstance: 1 }), /gate instance 1, not 0/],
        ['not yet valid', refusal({ issuedAt: iso(NOW + 6 * MINUTE) }), /not valid yet.*check the signer's clock/],
        ['expired', refusal({ expiresAt: iso(NOW) }), /expired at "2025-06-01T12:00:00.000Z"/],
        [
          'lifetime',
          refusal({ issuedAt: iso(NOW - 60 * MINUTE), expiresAt: iso(NOW + 24 * 60 * MINUTE) }),
          /valid for 25 h, longer than the 24 h allowed/,
        ],
        ['custom lifetime', refusal({}, { maxLifetimeMs: 30 * MINUTE }), /valid for 1.02 h, longer than the 0.50 h/],
        ['target case', refusal({ targets: [TARGET.replace('west', 'West')] }), /does not name the target/],
        ['custom skew', refusal({ issuedAt: iso(NOW + 2 * MINUTE) }, { clockSkewMs: MINUTE }), /not valid yet/],
      ];
      for (const [name, reason, expected] of cases) {
        assert.ok(reason, `${name}: expected a refusal`);
        assert.match(reason, expected, name);
      }
    });
  });

  describe('public keys and allowed_signers', () => {
    it('parses a key line and formats it back; only ssh-ed25519 is accepted', () => {
      const parsed = parsePublicKey(`  ${alice.publicKeyLine}\n`);
      assert.ok(parsed.ok);
      assert.equal(parsed.key.comment, 'alice@laptop');
      assert.equal(formatPublicKey(parsed.key.publicKey, parsed.key.comment), alice.publicKeyLine);
      assert.match(parsed.key.fingerprint, /^SHA256:[A-Za-z0-9+/]{43}$/);

      const rsa = parsePublicKey('ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me');
      assert.ok(!rsa.ok);
      assert.match(rsa.reason, /only ssh-ed25519 keys are supported \(ssh-keygen -t ed25519 makes one\)/);
      const twoLines = parsePublicKey(`${alice.publicKeyLine}\n${bob.publicKeyLine}`);
      assert.ok(!twoLines.ok);
      assert.match(twoLines.reason, /on one line/);
      const relabelled = parsePublicKey(`ssh-ed25519 ${Buffer.from('\0\0\0\x07ssh-rsa').toString('base64')}`);
      assert.ok(!relabelled.ok);
      assert.match(relabelled.reason, /key type is "ssh-rsa"/);
    });

    it('allowedSigners writes one line per key, people sorted, comments dropped, and refuses bad names', () => {
      const text = allowedSigners({ bob: [bob.publicKeyLine], alice: [alice.publicKeyLine] });
      const strip = (line: string): string => line.split(' ').slice(0, 2).join(' ');
      assert.equal(
        text,
        `alice namespaces="geofailover" ${strip(alice.publicKeyLine)}\n` +
          `bob namespaces="geofailover" ${strip(bob.publicKeyLine)}\n`,
      );
      assert.throws(() => allowedSigners({ 'eve,mallory': [bob.publicKeyLine] }), /not a valid person name/);
      assert.throws(() => allowedSigners({ eve: ['ssh-rsa AAAA'] }), /a key of eve is unusable/);
    });

    it('newNonce gives 32 hex characters, different each time', () => {
      const a = newNonce();
      assert.match(a, /^[0-9a-f]{32}$/);
      assert.notEqual(newNonce(), a);
    });
  });

  describe('verifiers never throw', () => {
    // Strings past every size bound, built by repetition (fast-check's own strings stay short).
    const huge = fc
      .tuple(fc.string({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1_000, max: 300_000 }))
      .map(([s, n]) => s.repeat(Math.ceil(n / s.length)));
    const input = fc.oneof(fc.anything(), huge, fc.string());
    const bounded = (result: { ok: boolean; reason?: string }): boolean =>
      result.ok || (typeof result.reason === 'string' && result.reason.length > 0 && result.reason.length <= 300);

    it('parseStatement, parsePublicKey, verifySshSig and verifyProof answer any value with a short reason', () => {
      fc.assert(
        fc.property(input, (value) => {
          assert.ok(bounded(parseStatement(value)));
          assert.ok(bounded(parsePublicKey(value)));
          assert.ok(bounded(verifySshSig({ message: 'x', armored: value, namespace: SIGNING_NAMESPACE })));
          assert.ok(bounded(verifySshSig(value as any)));
          assert.ok(bounded(verifySshSig({ message: value as string, armored: value, namespace: value as string })));
          assert.ok(bounded(verifyProof(value, keyring)));
          assert.ok(bounded(verifyProof({ statement: value, signature: value }, keyring)));
          assert.ok(bounded(verifyProof(aliceProof(), value as Record<string, string[]>)));
        }),
        { numRuns: 150 },
      );
    });

    it('statement-shaped JSON with wrong or oversized fields is refused with a short reason', () => {
      const field = fc.oneof(
        fc.jsonValue(),
        huge.map((s) => s.slice(0, 5_000)),
      );
      fc.assert(
        fc.property(
          fc.dictionary(fc.constantFrom(...Object.keys(statement()), 'detail', 'extra'), field),
          (overrides) => {
            assert.ok(bounded(parseStatement(JSON.stringify({ ...statement(), ...overrides }))));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('a signed proof with any one character changed is refused or still the same proof, never a crash', () => {
      const proof = aliceProof();
      fc.assert(
        fc.property(
          fc.boolean(),
          fc.nat(),
          fc.string({ minLength: 1, maxLength: 1 }),
          (inStatement, position, char) => {
            const field = inStatement ? 'statement' : 'signature';
            const text = proof[field];
            const at = position % text.length;
            const changed = { ...proof, [field]: text.slice(0, at) + char + text.slice(at + 1) };
            const result = verifyProof(changed, keyring);
            assert.ok(bounded(result));
            if (result.ok) assert.equal(result.statement.comment, 'west is down for good');
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('Temporal workflow sandbox', function () {
    this.timeout(60_000);
    let bundle: WorkflowBundle;
    const logged: string[] = [];

    before(async () => {
      installTestRuntime();
      bundle = await bundleWorkflowCode({
        workflowsPath: require.resolve('../fixtures/signing-workflow'),
        // INFO: webpack's own report, where a warning about a module would appear.
        logger: new DefaultLogger('INFO', (entry) => logged.push(`${entry.level} ${entry.message}`)),
      });
    });

    it('src/signing bundles as workflow code with no Node built-ins and no warnings', () => {
      assert.ok(logged.length > 0, 'the bundler reported nothing');
      for (const line of logged) {
        assert.doesNotMatch(line, /^(WARN|ERROR)|WARNING in|ERROR in|Module not found|disallowed/, line);
      }
      // @noble/hashes has a node:crypto variant; the bundle must hold the WebCrypto one.
      assert.doesNotMatch(bundle.code, /"\.\/node_modules\/@noble\/hashes\/(esm\/)?cryptoNode\.js"/);
      assert.match(bundle.code, /src\/signing\/sshsig\.ts/);
    });

    it('verifyProof runs inside the sandbox (a one-task history replayed, no server)', async () => {
      const proof = aliceProof();
      const fingerprint = (parsePublicKey(alice.publicKeyLine) as { key: { fingerprint: string } }).key.fingerprint;
      const verdict = async (p: Proof): Promise<string> => {
        const error = await Worker.runReplayHistory({ workflowBundle: bundle }, oneTaskHistory([p, keyring])).then(
          () => assert.fail('the workflow task should fail with the verdict'),
          (e: Error) => e,
        );
        return /sandbox verdict: [^"\\]*/.exec(error.message)?.[0] ?? error.message;
      };
      assert.equal(await verdict(proof), `sandbox verdict: ok ${fingerprint}`);
      assert.match(
        await verdict({ ...proof, statement: proof.statement.replace('west', 'east') }),
        /^sandbox verdict: refused the signature does not match the signed text/,
      );
    });
  });
});

/** The history of a verdictAsTaskFailure run up to its completion, for Worker.runReplayHistory. */
function oneTaskHistory(args: unknown[]): ReturnType<typeof historyFromJSON> {
  const payload = (value: unknown) => ({
    metadata: { encoding: Buffer.from('json/plain').toString('base64') },
    data: Buffer.from(JSON.stringify(value)).toString('base64'),
  });
  const at = '2025-06-01T12:00:00Z';
  return historyFromJSON({
    events: [
      {
        eventId: '1',
        eventTime: at,
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
        workflowExecutionStartedEventAttributes: {
          workflowType: { name: 'verdictAsTaskFailure' },
          taskQueue: { name: 'signing-test' },
          input: { payloads: args.map(payload) },
          workflowTaskTimeout: '10s',
          originalExecutionRunId: 'run-1',
          firstExecutionRunId: 'run-1',
          attempt: 1,
        },
      },
      {
        eventId: '2',
        eventTime: at,
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_SCHEDULED',
        workflowTaskScheduledEventAttributes: {
          taskQueue: { name: 'signing-test' },
          startToCloseTimeout: '10s',
          attempt: 1,
        },
      },
      {
        eventId: '3',
        eventTime: at,
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_STARTED',
        workflowTaskStartedEventAttributes: { scheduledEventId: '2', identity: 'test', requestId: 'r' },
      },
      {
        eventId: '4',
        eventTime: at,
        eventType: 'EVENT_TYPE_WORKFLOW_TASK_COMPLETED',
        workflowTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '3' },
      },
      {
        eventId: '5',
        eventTime: at,
        eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED',
        workflowExecutionCompletedEventAttributes: { workflowTaskCompletedEventId: '4' },
      },
    ],
  });
}
