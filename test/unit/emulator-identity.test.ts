import assert from 'node:assert/strict';
import { ARM_AUDIENCE, REDIS_AUDIENCE, TokenIssuer, TokenRejection } from '../../src/emulator/identity';

/** The emulated tenant's token endpoint and token checks, without a server. */

function form(fields: Record<string, string>): URLSearchParams {
  return new URLSearchParams(fields);
}

function rejection(fn: () => unknown): TokenRejection {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof TokenRejection, String(e));
    return e;
  }
  assert.fail('expected a TokenRejection');
}

describe('emulated tenant (TokenIssuer)', () => {
  const issuer = new TokenIssuer({ tokenLifetimeSeconds: 600 });
  issuer.authorityHost = 'https://127.0.0.1:1';
  const principal = issuer.principals[0];
  assert.ok(principal);
  const good = {
    grant_type: 'client_credentials',
    client_id: principal.clientId,
    client_secret: principal.clientSecret,
    scope: `${ARM_AUDIENCE}/.default`,
  };

  it('issues a Bearer token for ARM and for Redis, as client_secret_post or client_secret_basic', () => {
    const answer = issuer.token(form(good));
    assert.equal(answer.status, 200);
    const body = answer.body as { token_type: string; expires_in: number; access_token: string };
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 600);
    assert.equal(issuer.verify(body.access_token, [ARM_AUDIENCE]).oid, principal.objectId);

    const basic = issuer.token(form({ grant_type: 'client_credentials', scope: `${REDIS_AUDIENCE}/.default` }), {
      clientId: principal.clientId,
      clientSecret: principal.clientSecret,
    });
    assert.equal(basic.status, 200);
    const redis = (basic.body as { access_token: string }).access_token;
    assert.equal(issuer.verify(redis, [REDIS_AUDIENCE]).aud, REDIS_AUDIENCE);
    assert.equal(rejection(() => issuer.verify(redis, [ARM_AUDIENCE])).code, 'InvalidAuthenticationTokenAudience');
  });

  it('refuses as Entra ID does: grant type, unknown client, wrong secret, unknown or several resources', () => {
    const cases: [Record<string, string>, number, string, number][] = [
      [{ ...good, grant_type: 'password' }, 400, 'unsupported_grant_type', 70003],
      [{ ...good, client_id: 'nobody' }, 400, 'unauthorized_client', 700016],
      [{ ...good, client_secret: 'wrong' }, 401, 'invalid_client', 7000215],
      [{ ...good, scope: 'https://graph.microsoft.com/.default' }, 400, 'invalid_resource', 500011],
      [{ ...good, scope: `${ARM_AUDIENCE}/.default ${REDIS_AUDIENCE}/.default` }, 400, 'invalid_resource', 500011],
    ];
    for (const [fields, status, error, code] of cases) {
      const answer = issuer.token(form(fields));
      const body = answer.body as { error: string; error_codes: number[]; error_description: string };
      assert.equal(answer.status, status, JSON.stringify(fields));
      assert.equal(body.error, error);
      assert.deepEqual(body.error_codes, [code]);
      assert.match(body.error_description, new RegExp(`^AADSTS${code}: `));
    }
  });

  it('refuses tokens of another tenant, not yet valid, expired, or tampered with', () => {
    const other = new TokenIssuer();
    other.authorityHost = issuer.authorityHost;
    assert.equal(
      rejection(() => issuer.verify(other.mint(ARM_AUDIENCE), [ARM_AUDIENCE])).code,
      'InvalidAuthenticationToken',
    );
    const now = Math.floor(Date.now() / 1000);
    assert.equal(
      rejection(() => issuer.verify(issuer.mint(ARM_AUDIENCE, principal, { nbf: now + 600 }), [ARM_AUDIENCE])).code,
      'InvalidAuthenticationToken',
    );
    assert.equal(
      rejection(() => issuer.verify(issuer.mint(ARM_AUDIENCE, principal, { exp: now }), [ARM_AUDIENCE])).code,
      'ExpiredAuthenticationToken',
    );
    const [h, , s] = issuer.mint(ARM_AUDIENCE).split('.');
    const forged = Buffer.from(JSON.stringify({ aud: ARM_AUDIENCE, exp: now + 600 })).toString('base64url');
    assert.equal(
      rejection(() => issuer.verify(`${h}.${forged}.${s}`, [ARM_AUDIENCE])).code,
      'InvalidAuthenticationToken',
    );
    assert.equal(
      rejection(() => issuer.verify(issuer.mint(ARM_AUDIENCE, principal, { iss: 'https://elsewhere' }), [ARM_AUDIENCE]))
        .code,
      'InvalidAuthenticationToken',
    );
  });

  it('publishes its OpenID metadata and one RS256 signing key', () => {
    const metadata = issuer.openIdConfiguration();
    assert.equal(metadata.issuer, `https://127.0.0.1:1/${issuer.tenantId}/v2.0`);
    assert.equal(metadata.token_endpoint, `https://127.0.0.1:1/${issuer.tenantId}/oauth2/v2.0/token`);
    assert.equal(metadata.jwks_uri, `https://127.0.0.1:1/${issuer.tenantId}/discovery/v2.0/keys`);
    const { keys } = issuer.jwks();
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.kid, issuer.kid);
    assert.equal(keys[0]?.alg, 'RS256');
  });
});
