// Generic staff OpenID Provider for Palazzo's tests (panva/oidc-provider 9, in-memory).
//   node server.mjs [port]     env: see README.md (PALAZZO_OP_PORT, PALAZZO_REDIRECT_URIS, ...)
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const env = process.env;
const port = Number(process.argv[2] || env.PALAZZO_OP_PORT || 8200);
const issuer = (env.PALAZZO_OP_ISSUER || `http://127.0.0.1:${port}`).replace(/\/$/, '');
const list = (s) => (s || '').split(',').map((x) => x.trim()).filter(Boolean);
const staffPassword = env.PALAZZO_STAFF_PASSWORD || 'staff-test';
const autoConsent = env.PALAZZO_OP_AUTO_CONSENT === '1';
const ACCOUNTS = {
  'operatore.protocollo': { given_name: 'Paola', family_name: 'Ferri', groups: ['palazzo:operatore:protocollo'] },
  'dirigente.tecnico': { given_name: 'Marco', family_name: 'Galli', groups: ['palazzo:dirigente', 'palazzo:ufficio:tecnico'] },
  'admin.comune': { given_name: 'Lucia', family_name: 'Neri', groups: ['palazzo:admin'] },
};
const claimsOf = (id) => ({
  sub: id, preferred_username: id, email: `${id}@comune.example.test`, email_verified: true,
  name: `${ACCOUNTS[id].given_name} ${ACCOUNTS[id].family_name}`, ...ACCOUNTS[id],
});
const client = (c) => ({
  client_id: c.client_id || 'palazzo',
  client_secret: c.client_secret || env.PALAZZO_CLIENT_SECRET || 'palazzo-test-secret',
  redirect_uris: c.redirect_uris, post_logout_redirect_uris: c.post_logout_redirect_uris || [],
  grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const html = (title, body) => `<!DOCTYPE html><html lang="it"><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const provider = new Provider(issuer, {
  // clients live in the (in-memory) adapter so POST /test/clients can change them at run time
  findAccount: async (ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: async () => claimsOf(id) } : undefined),
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'given_name', 'family_name', 'preferred_username'], groups: ['groups'] },
  scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
  conformIdTokenClaims: false, // the ID token carries the scope claims (groups, email, ...)
  pkce: { required: () => true },
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'palazzo-test-rs256', alg: 'RS256', use: 'sig' }] },
  cookies: { keys: ['palazzo-testbed-cookie-key'] },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    introspection: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => { ctx.body = html('Logout', `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Esci</button>`); },
      postLogoutSuccessSource: async (ctx) => { ctx.body = html('Disconnesso', '<p>logged out</p>'); },
    },
  },
  renderError: async (ctx, out) => { ctx.type = 'html'; ctx.body = html('Errore', `<pre>${esc(JSON.stringify(out))}</pre>`); },
});

await provider.Client.adapter.upsert('palazzo', client({ redirect_uris: list(env.PALAZZO_REDIRECT_URIS || 'http://127.0.0.1:8080/auth/callback'), post_logout_redirect_uris: list(env.PALAZZO_POST_LOGOUT_REDIRECT_URIS) }));

const form = (uid, action, inner) => `<form method="post" action="/interaction/${uid}/${action}">${inner}<button type="submit">OK</button></form>`;
const loginPage = (uid, err = '') => html('Accesso personale', `${err && `<p id="error">${esc(err)}</p>`}${form(uid, 'login', '<input name="login" autocomplete="username"><input name="password" type="password">')}`);
const body = async (ctx) => { let s = ''; for await (const c of ctx.req) s += c; return ctx.is('json') ? JSON.parse(s || '{}') : Object.fromEntries(new URLSearchParams(s)); };

provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/);
  if (ctx.path === '/test/clients' && ctx.method === 'POST') { // {client_id?, client_secret?, redirect_uris, post_logout_redirect_uris?, replace?}
    const b = await body(ctx); const old = (!b.replace && await provider.Client.adapter.find(b.client_id || 'palazzo')) || {};
    const union = (k) => [...new Set([...(old[k] || []), ...(b[k] || [])])];
    const c = client({ ...old, ...b, redirect_uris: union('redirect_uris'), post_logout_redirect_uris: union('post_logout_redirect_uris') });
    await provider.Client.validate(c);
    await provider.Client.adapter.upsert(c.client_id, c); ctx.status = 204; return;
  }
  if (!m) return next();
  const d = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !m[2]) {
    if (d.prompt.name === 'login') { ctx.type = 'html'; ctx.body = loginPage(d.uid); return; }
    if (!autoConsent) { ctx.type = 'html'; ctx.body = html('Consenso', `<p>${esc(d.params.client_id)}: ${esc(d.params.scope)}</p>${form(d.uid, 'confirm', '')}`); return; }
  }
  if (ctx.method === 'POST' && m[2] === 'login') {
    const { login, password } = await body(ctx);
    if (!ACCOUNTS[login] || password !== staffPassword) { ctx.status = 401; ctx.type = 'html'; ctx.body = loginPage(d.uid, 'credenziali non valide'); return; }
    await provider.interactionFinished(ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false }); return;
  }
  if (m[2] === 'abort') { await provider.interactionFinished(ctx.req, ctx.res, { error: 'access_denied' }, { mergeWithLastSubmission: false }); return; }
  if (d.prompt.name !== 'consent') ctx.throw(400, 'unexpected prompt');
  const grant = d.grantId ? await provider.Grant.find(d.grantId) : new provider.Grant({ accountId: d.session.accountId, clientId: d.params.client_id });
  if (d.prompt.details.missingOIDCScope) grant.addOIDCScope(d.prompt.details.missingOIDCScope.join(' '));
  if (d.prompt.details.missingOIDCClaims) grant.addOIDCClaims(d.prompt.details.missingOIDCClaims);
  await provider.interactionFinished(ctx.req, ctx.res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
});

provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider ${issuer} listening`));
