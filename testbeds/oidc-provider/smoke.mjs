// Headless end-to-end check of the staff OP: code + PKCE login through the plain HTML forms.
//   node smoke.mjs [issuer] [user] [password]      (default http://127.0.0.1:8200 operatore.protocollo staff-test)
import { createHash, createPublicKey, randomBytes, verify } from 'node:crypto';
import assert from 'node:assert/strict';

const [issuer = 'http://127.0.0.1:8200', user = 'operatore.protocollo', password = process.env.PALAZZO_STAFF_PASSWORD || 'staff-test'] = process.argv.slice(2);
const secret = process.env.PALAZZO_CLIENT_SECRET || 'palazzo-test-secret';
const cb = 'http://127.0.0.1:8299/smoke/callback';
const b64u = (b) => Buffer.from(b).toString('base64url');
const jar = new Map();
async function http(url, opts = {}) {
  const u = new URL(url, issuer);
  const headers = { ...(opts.headers || {}), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') };
  if (opts.form) { headers['content-type'] = 'application/x-www-form-urlencoded'; opts.body = new URLSearchParams(opts.form).toString(); }
  const res = await fetch(u, { ...opts, headers, redirect: 'manual' });
  for (const c of res.headers.getSetCookie()) { const [kv] = c.split(';'); const i = kv.indexOf('='); jar.set(kv.slice(0, i), kv.slice(i + 1)); }
  return res;
}
const t0 = performance.now();
const disc = await (await http('/.well-known/openid-configuration')).json();
// run-time client registration (what a Rust test does once it knows its port)
let r = await http('/test/clients', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [cb], post_logout_redirect_uris: [`${cb}/logout`] }) });
assert.equal(r.status, 204);

const verifier = b64u(randomBytes(32)); const state = b64u(randomBytes(16)); const nonce = b64u(randomBytes(16));
const auth = new URL(disc.authorization_endpoint);
Object.entries({ client_id: 'palazzo', response_type: 'code', scope: 'openid email profile groups', redirect_uri: cb, state, nonce, code_challenge: b64u(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256' }).forEach(([k, v]) => auth.searchParams.set(k, v));
let url = auth.href; let forms = 0; let badLogin;
for (let i = 0; i < 12 && !url.startsWith(cb); i++) {
  r = await http(url);
  if (r.status >= 300 && r.status < 400) { url = new URL(r.headers.get('location'), issuer).href; continue; }
  const page = await r.text();
  const action = page.match(/<form method="post" action="([^"]+)"/)?.[1];
  assert.ok(action, `no form at ${url}: ${r.status} ${page.slice(0, 300)}`);
  if (action.endsWith('/login') && badLogin === undefined) badLogin = (await http(action, { method: 'POST', form: { login: user, password: 'wrong' } })).status;
  r = await http(action, { method: 'POST', form: action.endsWith('/login') ? { login: user, password } : {} });
  assert.ok(r.status >= 300 && r.status < 400, `POST ${action} -> ${r.status}`);
  url = new URL(r.headers.get('location'), issuer).href; forms++;
}
const cbq = new URL(url).searchParams;
assert.equal(cbq.get('state'), state); assert.equal(cbq.get('iss'), issuer);
const basic = `Basic ${Buffer.from(`palazzo:${secret}`).toString('base64')}`;
r = await http(disc.token_endpoint, { method: 'POST', headers: { authorization: basic }, form: { grant_type: 'authorization_code', code: cbq.get('code'), redirect_uri: cb, code_verifier: verifier } });
const tok = await r.json(); assert.equal(r.status, 200, JSON.stringify(tok));
const [h, p, s] = tok.id_token.split('.');
const header = JSON.parse(Buffer.from(h, 'base64url')); const claims = JSON.parse(Buffer.from(p, 'base64url'));
const { keys } = await (await http(disc.jwks_uri)).json();
const key = createPublicKey({ key: keys.find((k) => k.kid === header.kid), format: 'jwk' });
assert.ok(verify('sha256', Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url')), 'ID token signature');
assert.equal(header.alg, 'RS256'); assert.equal(claims.nonce, nonce); assert.equal(claims.aud, 'palazzo'); assert.equal(claims.iss, issuer);
const userinfo = await (await http(disc.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } })).json();
r = await http(disc.revocation_endpoint, { method: 'POST', headers: { authorization: basic }, form: { token: tok.access_token, token_type_hint: 'access_token' } });
const revoked = r.status;
const afterRevoke = (await http(disc.userinfo_endpoint, { headers: { authorization: `Bearer ${tok.access_token}` } })).status;
// RP-initiated logout: GET end_session -> form (xsrf) -> POST confirm with logout=yes
const end = new URL(disc.end_session_endpoint);
end.searchParams.set('id_token_hint', tok.id_token); end.searchParams.set('post_logout_redirect_uri', `${cb}/logout`); end.searchParams.set('state', state);
const lp = await (await http(end.href)).text();
r = await http(lp.match(/action="([^"]+)"/)[1], { method: 'POST', form: { xsrf: lp.match(/name="xsrf" value="([^"]+)"/)[1], logout: 'yes' } });
const logout = `${r.status} ${r.headers.get('location')}`;
console.log(JSON.stringify({ issuer, forms_posted: forms, wrong_password_status: badLogin, id_token_claims: claims, userinfo, revocation_status: revoked, userinfo_after_revocation: afterRevoke, logout, ms: Math.round(performance.now() - t0) }, null, 2));
