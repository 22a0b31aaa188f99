// A real, OpenID-certified provider (npm oidc-provider) configured for stepgate's tests.
//
// Usage: node provider.mjs [config.json]   (or the JSON itself in env STEPGATE_IDP_CONFIG)
// Config: {"clients": [<client metadata>], "users": [{sub, username, password, otp, email, user_code}],
//          "resource": "https://api.stepgate.test", "port": 0}
// With no config it starts with a demo app client, a CIBA client and the user alice.
//
// It listens on 127.0.0.1 only and prints `ISSUER http://127.0.0.1:PORT` as its first stdout line.
// Login: GET /interaction/:uid shows a form; POST /interaction/:uid/login takes username, password
// and optionally otp. Password only gives amr ["pwd"], acr urn:stepgate:pwd; a correct otp gives
// amr ["pwd","otp","mfa"] and the PAPE multi-factor acr. When the request asks for the multi-factor
// acr (acr_values or an essential acr claim) the form is a step-up prompt: it says what is asked,
// prefills the username of the provider session (or login_hint) and requires the code, answering a
// missing or wrong code with a message. Every form has a Cancel (POST /interaction/:uid/abort),
// which returns error=access_denied to the app. An expired or finished interaction (Back after
// signing in) gets a plain HTML page, not JSON. Consent is granted automatically.
// Test-only routes (loopback): GET /__test/ciba/pending (unexpired requests only),
// POST /__test/ciba/:id/approve (JSON or form body with optional acr, amr),
// POST /__test/ciba/:id/deny; answering an expired request is 410 expired_token.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const ACR_PWD = 'urn:stepgate:pwd';
const ACR_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const AMR_PWD = ['pwd'];
const AMR_MFA = ['pwd', 'otp', 'mfa'];

const config = loadConfig();
const users = config.users;
const pending = new Map(); // auth_req_id (request.jti) -> what the user's device would show
const expired = new Set(); // auth_req_ids that expired unanswered (bounded: oldest forgotten first)

// dropExpired moves requests past their expiry out of `pending`, as a phone stops showing them.
function dropExpired() {
  const now = Math.floor(Date.now() / 1000);
  for (const [id, p] of pending) {
    if (p.expires_at <= now) {
      pending.delete(id);
      expired.add(id);
    }
  }
  for (const id of expired) {
    if (expired.size <= 1000) break;
    expired.delete(id);
  }
}

function loadConfig() {
  const raw = process.argv[2] ? readFileSync(process.argv[2], 'utf8') : process.env.STEPGATE_IDP_CONFIG;
  const cfg = raw ? JSON.parse(raw) : {};
  return {
    port: cfg.port ?? 0,
    resource: cfg.resource ?? 'https://api.stepgate.test',
    users: cfg.users ?? [{ sub: 'alice', username: 'alice', password: 'alice-password', otp: '123456', email: 'alice@example.test' }],
    clients: cfg.clients ?? [
      { client_id: 'stepgate-demo', token_endpoint_auth_method: 'none', redirect_uris: ['http://127.0.0.1:8080/callback'] },
      {
        client_id: 'stepgate-ciba', client_secret: 'stepgate-ciba-secret', redirect_uris: [], response_types: [],
        grant_types: ['urn:openid:params:grant-type:ciba'], backchannel_token_delivery_mode: 'poll',
      },
    ],
  };
}

function findUser(pred) {
  return users.find(pred);
}

// processLoginHint accepts a sub, a username, an email, or Auth0's JSON {"format":"iss_sub",...}.
function userForHint(hint) {
  if (hint.startsWith('{')) {
    let parsed;
    try { parsed = JSON.parse(hint); } catch { throw new errors.InvalidRequest('login_hint is not valid JSON'); }
    if (parsed.format !== 'iss_sub' || parsed.iss !== provider.issuer) return undefined;
    return findUser((u) => u.sub === parsed.sub);
  }
  return findUser((u) => u.sub === hint || u.username === hint || u.email === hint);
}

const server = createServer(route);
await new Promise((resolve) => server.listen(config.port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const provider = new Provider(issuer, {
  clients: config.clients,
  jwks: { keys: [{ ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' }] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  acrValues: [ACR_PWD, ACR_MFA],
  claims: { openid: ['sub', 'acr', 'amr', 'auth_time', 'email', 'preferred_username'] },
  conformIdTokenClaims: false, // ID tokens carry email/preferred_username too: handy as CIBA hints
  findAccount: (ctx, sub) => {
    const user = findUser((u) => u.sub === sub);
    return user && { accountId: user.sub, claims: () => ({ sub: user.sub, email: user.email, preferred_username: user.username }) };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  extraTokenClaims: (ctx, token) => {
    // The authentication facts come from whatever the token was minted from.
    const { AuthorizationCode, BackchannelAuthenticationRequest, RefreshToken } = ctx.oidc.entities;
    const source = AuthorizationCode ?? BackchannelAuthenticationRequest ?? RefreshToken;
    if (token.kind !== 'AccessToken' || !source) return undefined;
    return { acr: source.acr, amr: source.amr, auth_time: source.authTime };
  },
  features: {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true }, // so an essential acr claim forces a matching login
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => {
        if (resource !== config.resource) throw new errors.InvalidTarget();
        return { scope: 'openid profile email', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } };
      },
    },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      processLoginHint: (ctx, hint) => userForHint(hint)?.sub,
      processLoginHintToken: () => { throw new errors.InvalidRequest('login_hint_token is not supported by the test provider'); },
      validateBindingMessage: (ctx, message) => {
        if (message !== undefined && !/^[A-Za-z0-9._+#-]{1,20}$/.test(message)) {
          throw new errors.InvalidBindingMessage('binding_message must be 1-20 characters of [A-Za-z0-9._+#-]');
        }
      },
      validateRequestContext: () => {},
      verifyUserCode: (ctx, account, userCode) => {
        const expected = findUser((u) => u.sub === account.accountId)?.user_code;
        if (expected && userCode !== expected) throw new errors.InvalidUserCode('user_code does not match');
      },
      triggerAuthenticationDevice: (ctx, request, account, client) => {
        pending.set(request.jti, {
          auth_req_id: request.jti, client_id: client.clientId, sub: account.accountId,
          binding_message: request.params.binding_message, scope: request.scope, acr_values: request.params.acr_values,
          expires_at: request.exp ?? Math.floor(Date.now() / 1000) + request.expiration,
        });
      },
    },
  },
});
const callback = provider.callback();
provider.on('server_error', (ctx, err) => console.error('server_error', err));

async function route(req, res) {
  const url = new URL(req.url, issuer);
  const interaction = url.pathname.match(/^\/interaction\/([^/]+)(\/login|\/abort)?$/);
  try {
    if (interaction) {
      if (interaction[2] === '/abort') return await abortInteraction(req, res);
      return await (interaction[2] ? submitLogin(req, res) : showInteraction(req, res));
    }
    if (url.pathname.startsWith('/__test/')) return await testRoute(req, res, url.pathname);
    return callback(req, res);
  } catch (err) {
    if (interaction && err instanceof errors.SessionNotFound) return expiredPage(res);
    send(res, err.statusCode ?? 500, { error: err.error ?? 'server_error', error_description: err.error_description ?? err.message });
  }
}

async function showInteraction(req, res) {
  const { uid, prompt, params, session, grantId } = await provider.interactionDetails(req, res);
  if (prompt.name === 'login') return loginForm(res, uid, params, knownUsername(session, params), '');
  // Consent is automatic: grant whatever is missing.
  const grant = grantId ? await provider.Grant.find(grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '));
  const result = { consent: { grantId: await grant.save() } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: true });
}

async function submitLogin(req, res) {
  const { uid, prompt, params } = await provider.interactionDetails(req, res);
  if (prompt.name !== 'login') throw new errors.InvalidRequest('no login pending for this interaction');
  const form = new URLSearchParams(await readBody(req));
  const username = form.get('username') ?? '';
  const otp = (form.get('otp') ?? '').trim();
  const user = findUser((u) => u.username === username && u.password === form.get('password'));
  if (!user) return loginForm(res, uid, params, username, 'Wrong username or password.');
  if (!otp && wantsMFA(params)) return loginForm(res, uid, params, username, 'Enter the one-time code from your authenticator app.');
  if (otp && otp !== user.otp) return loginForm(res, uid, params, username, 'That one-time code is not correct. Try again.');
  const login = otp ? { accountId: user.sub, acr: ACR_MFA, amr: AMR_MFA } : { accountId: user.sub, acr: ACR_PWD, amr: AMR_PWD };
  return provider.interactionFinished(req, res, { login }, { mergeWithLastSubmission: false });
}

// abortInteraction is the Cancel button: the app gets error=access_denied, as from a real provider.
async function abortInteraction(req, res) {
  await provider.interactionDetails(req, res);
  const result = { error: 'access_denied', error_description: 'End-User aborted interaction' };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

// wantsMFA reports whether the request asks for the multi-factor acr: in acr_values, or as the
// value(s) of an acr claim request (the essential one stepgate sends on step-up).
function wantsMFA(params) {
  if (String(params.acr_values ?? '').split(' ').includes(ACR_MFA)) return true;
  let claims;
  try { claims = typeof params.claims === 'string' ? JSON.parse(params.claims) : params.claims; } catch { return false; }
  const acr = claims?.id_token?.acr ?? claims?.userinfo?.acr;
  return Boolean(acr && (acr.value === ACR_MFA || (acr.values ?? []).includes(ACR_MFA)));
}

// knownUsername is whom the provider already knows: its session's account, else the login_hint.
function knownUsername(session, params) {
  const user = (session?.accountId && findUser((u) => u.sub === session.accountId)) || (params.login_hint && userForHint(params.login_hint));
  return user?.username ?? '';
}

const PAGE_STYLE = `body{font:16px/1.5 system-ui,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:26rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}
h1{font-size:1.4rem;margin:0 0 .5rem}label{display:block;margin:.8rem 0}input{display:block;width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
.actions{display:flex;gap:.6rem;margin-top:1.2rem}button{font:inherit;padding:.5rem 1.1rem;border-radius:4px;border:1px solid #8893a5;background:#fff;cursor:pointer}
button.primary{background:#1f5fbf;border-color:#1f5fbf;color:#fff}.error{color:#a01919;background:#fdecec;padding:.5rem .7rem;border-radius:4px}
.muted{color:#5b6577}.brand{font-weight:600;color:#5b6577;margin-bottom:1rem}`;

// page is the provider's HTML page around body.
function page(status, title, body) {
  return { status, html: `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHTML(title)} · Test OpenID provider</title>
<style>${PAGE_STYLE}</style></head><body><main><p class="brand">Test OpenID provider</p>${body}</main></body></html>` };
}

function writePage(res, { status, html }) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

function loginForm(res, uid, params, username, error) {
  const stepUp = wantsMFA(params);
  const action = `/interaction/${encodeURIComponent(uid)}`;
  const client = escapeHTML(params.client_id ?? 'The application');
  const intro = stepUp
    ? `<h1>Confirm it's you</h1><p><strong>${client}</strong> asks for your one-time code before it continues.</p>`
    : `<h1>Sign in</h1><p class="muted">to continue to <strong>${client}</strong></p>`;
  const otpLabel = stepUp ? 'One-time code' : 'One-time code (optional)';
  writePage(res, page(error ? 401 : 200, stepUp ? 'Confirm it\'s you' : 'Sign in', `${intro}
<form method="post" action="${action}/login">
${error ? `<p class="error" role="alert">${escapeHTML(error)}</p>` : ''}
<label>Username <input name="username" value="${escapeHTML(username)}" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}></label>
<label>${otpLabel} <input name="otp" inputmode="numeric" autocomplete="one-time-code"${stepUp ? ' required' : ''}></label>
<div class="actions"><button type="submit" class="primary">${stepUp ? 'Continue' : 'Sign in'}</button>
<button type="submit" name="cancel" formaction="${action}/abort" formnovalidate>Cancel</button></div>
</form>`));
}

// expiredPage answers an interaction that no longer exists: left open too long, or already
// finished (the browser's Back after signing in).
function expiredPage(res) {
  writePage(res, page(400, 'This sign-in page has expired', `<h1>This sign-in page has expired</h1>
<p>It was already used or left open too long, so it cannot continue.</p>
<p class="muted">Go back to the application and start again from there.</p>`));
}

async function testRoute(req, res, path) {
  if (!['127.0.0.1', '::1', '::ffff:127.0.0.1'].includes(req.socket.remoteAddress)) return send(res, 403, { error: 'forbidden' });
  dropExpired();
  if (req.method === 'GET' && path === '/__test/ciba/pending') {
    const now = Math.floor(Date.now() / 1000);
    return send(res, 200, { pending: [...pending.values()].map((p) => ({ ...p, expires_in: p.expires_at - now })) });
  }
  const m = path.match(/^\/__test\/ciba\/([^/]+)\/(approve|deny)$/);
  if (req.method !== 'POST' || !m) return send(res, 404, { error: 'not_found' });
  const id = decodeURIComponent(m[1]);
  if (expired.has(id)) return send(res, 410, { error: 'expired_token', error_description: 'the CIBA request expired before it was answered' });
  const request = await provider.BackchannelAuthenticationRequest.find(id, { ignoreExpiration: true });
  if (!request || !pending.has(id)) return send(res, 404, { error: 'not_found', error_description: 'no pending CIBA request with that id' });
  if (m[2] === 'deny') {
    await provider.backchannelResult(request, new errors.AccessDenied('end-user denied the request'));
  } else {
    const { acr = ACR_MFA, amr = AMR_MFA } = parseBody(await readBody(req), req.headers['content-type']);
    const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
    grant.addOIDCScope(request.scope);
    if (request.claims) grant.addOIDCClaims(Object.keys({ ...request.claims.id_token, ...request.claims.userinfo }));
    for (const resource of [request.resource ?? []].flat()) grant.addResourceScope(resource, request.scope);
    await grant.save();
    await provider.backchannelResult(request, grant, { acr, amr, authTime: Math.floor(Date.now() / 1000) });
  }
  pending.delete(id);
  return send(res, 200, { auth_req_id: id, result: m[2] === 'deny' ? 'denied' : 'approved' });
}

function parseBody(body, contentType = '') {
  if (!body) return {};
  if (contentType.startsWith('application/json')) return JSON.parse(body);
  const form = new URLSearchParams(body);
  return { acr: form.get('acr') ?? undefined, amr: form.has('amr') ? form.getAll('amr') : undefined };
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function escapeHTML(s) {
  return String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

process.on('SIGTERM', () => server.close(() => process.exit(0)));
console.log(`ISSUER ${issuer}`);
