// The /demo page's whole client: authorization code + PKCE as a public client, in plain browser
// JavaScript (no framework, no build step). It only writes text (textContent), never HTML, so
// nothing the server or the URL sends can become markup. Served inline under a CSP hash.

const config = JSON.parse(document.getElementById('demo-config').textContent);
const stepsList = document.getElementById('steps');
const actions = document.getElementById('actions');
// The verifier and state live in this tab only, from the redirect out until the callback.
const PENDING_KEY = 'oauth2-demo-pending-request';

/** Appends one step: a title, a sentence on what happened and why, and the raw values. */
function showStep(name, title, text, details, status = 'ok') {
  const item = document.createElement('li');
  item.dataset.step = name;
  item.dataset.status = status;
  const heading = document.createElement('h2');
  heading.textContent = title;
  const paragraph = document.createElement('p');
  paragraph.textContent = text;
  item.append(heading, paragraph);
  if (details !== undefined) {
    const pre = document.createElement('pre');
    pre.textContent = typeof details === 'string' ? details : JSON.stringify(details, null, 2);
    item.append(pre);
  }
  stepsList.append(item);
  return item;
}

function fail(name, title, text, details) {
  showStep(name, title, text, details, 'error');
  actions.replaceChildren(startOverLink('Start over'));
}

function startOverLink(label) {
  const link = document.createElement('a');
  link.href = config.demoPath;
  link.className = 'button';
  link.id = 'start-over';
  link.textContent = label;
  return link;
}

const base64url = (bytes) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** `bytes` bytes from the browser's CSPRNG, base64url (32 bytes: a 43-character PKCE verifier). */
function randomValue(bytes) {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return base64url(buffer);
}

/** RFC 7636 §4.2: code_challenge = BASE64URL(SHA-256(ASCII(code_verifier))). */
async function s256(verifier) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

const redirectUri = `${location.origin}${config.callbackPath}`;
document.getElementById('redirect-uri').textContent = redirectUri;

async function start() {
  if (!config.redirectUris.includes(redirectUri)) {
    const other = new URL(config.redirectUris[0]);
    fail(
      'origin',
      'Open this page on a registered address',
      `The demo client's redirect URIs are registered for ${config.redirectUris.join(', ')}, so this page must be opened at ${other.origin}${config.demoPath}.`,
    );
    return;
  }
  if (!window.isSecureContext || crypto.subtle === undefined) {
    fail(
      'pkce',
      '1. PKCE',
      'WebCrypto needs a secure context: open this page over https or on a loopback host.',
    );
    return;
  }
  const verifier = randomValue(32);
  const challenge = await s256(verifier);
  const state = randomValue(16);
  sessionStorage.setItem(PENDING_KEY, JSON.stringify({ verifier, challenge, state }));

  showStep(
    'pkce',
    '1. PKCE (RFC 7636)',
    'A fresh random code_verifier stays in this tab (sessionStorage). Only its SHA-256, the code_challenge, goes to the server now; the verifier itself is sent once, with the code, so a stolen code is useless without it.',
    { code_verifier: verifier, code_challenge: challenge, code_challenge_method: 'S256' },
  );
  showStep(
    'state',
    '2. state',
    'A random value the server sends back unchanged. The callback accepts only the state this tab sent, so nobody can feed this page a code from a sign-in it did not start.',
    { state },
  );
  const authorize = new URL(config.authorizePath, location.origin);
  const params = {
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: redirectUri,
    scope: config.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  for (const [key, value] of Object.entries(params)) authorize.searchParams.set(key, value);
  showStep(
    'authorization-request',
    '3. Authorization request',
    'The button below sends the browser to the authorize endpoint with these parameters. The service shows its sign-in page; this app never sees the password.',
    `GET ${authorize.href}\n\n${JSON.stringify(params, null, 2)}`,
  );
  const signIn = document.createElement('a');
  signIn.href = authorize.href;
  signIn.className = 'button';
  signIn.id = 'sign-in';
  signIn.textContent = 'Sign in';
  const hint = document.createElement('p');
  hint.className = 'hint';
  hint.textContent =
    config.demoUser === undefined
      ? 'Sign in with a user your AuthCheck knows.'
      : `Demo user: username "${config.demoUser.username}", password "${config.demoUser.password}".`;
  actions.replaceChildren(signIn, hint);
}

async function callback() {
  const params = new URLSearchParams(location.search);
  // The code is single use; take it out of the address bar and history so a reload cannot replay it.
  history.replaceState(null, '', location.pathname);
  const pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) ?? 'null');
  sessionStorage.removeItem(PENDING_KEY);
  const received = Object.fromEntries(params);
  if (pending === null) {
    fail(
      'callback',
      '4. Back at the redirect URI',
      'This tab started no sign-in (or already used its answer), so this response is ignored.',
      received,
    );
    return;
  }
  if (params.get('state') !== pending.state) {
    fail(
      'callback',
      '4. Back at the redirect URI',
      `The state that came back is not the one this tab sent (${pending.state}): possible cross-site request forgery, so the response is ignored.`,
      received,
    );
    return;
  }
  const metadata = await fetchJson(config.metadataPath, {});
  if (metadata.status !== 200) {
    fail(
      'callback',
      '4. Back at the redirect URI',
      'Could not read the server metadata to check iss.',
      httpDetails(metadata),
    );
    return;
  }
  const issuer = metadata.body.issuer;
  if (params.get('iss') !== issuer) {
    fail(
      'callback',
      '4. Back at the redirect URI',
      `iss is not this service's issuer (${issuer}), so the response may come from another authorization server (RFC 9207 mix-up): it is ignored.`,
      received,
    );
    return;
  }
  if (params.has('error')) {
    fail(
      'callback',
      '4. Back at the redirect URI',
      'The authorization server answered with an error instead of a code.',
      received,
    );
    return;
  }
  showStep(
    'before-sign-in',
    '1–3. Before you signed in',
    'This tab made the PKCE pair and the state, sent the challenge and the state to the authorize endpoint, and kept the verifier.',
    { code_verifier: pending.verifier, code_challenge: pending.challenge, state: pending.state },
  );
  showStep(
    'callback',
    '4. Back at the redirect URI',
    'The server redirected here with a one-time code. state matches the one this tab sent, and iss names this service (RFC 9207).',
    received,
  );

  const tokenRequest = {
    grant_type: 'authorization_code',
    code: params.get('code') ?? '',
    code_verifier: pending.verifier,
    redirect_uri: redirectUri,
    client_id: config.clientId,
  };
  const token = await postForm(tokenRequest);
  const tokenTitle = '5. Code exchange at the token endpoint';
  if (token.status !== 200) {
    fail('token', tokenTitle, 'The token endpoint refused the code.', httpDetails(token));
    return;
  }
  showStep(
    'token',
    tokenTitle,
    'A public client has no secret: it sends client_id in the body, and the code_verifier proves it is the app that asked for the code.',
    `POST ${config.tokenPath}\n${new URLSearchParams(tokenRequest)}\n\n${httpDetails(token)}`,
  );
  await callMe(token.body.access_token, '6. GET /me with the access token');
  offerRefresh(token.body.refresh_token);
}

async function callMe(accessToken, title) {
  const me = await fetchJson(config.mePath, { headers: { Authorization: `Bearer ${accessToken}` } });
  const details = `GET ${config.mePath}\nAuthorization: Bearer ${accessToken}\n\n${httpDetails(me)}`;
  if (me.status !== 200) {
    fail('me', title, 'The protected resource refused the access token.', details);
    return;
  }
  showStep('me', title, 'The demo resource checks the bearer token and answers who it belongs to.', details);
}

function offerRefresh(refreshToken) {
  if (typeof refreshToken !== 'string') {
    actions.replaceChildren(startOverLink('Start over'));
    return;
  }
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'refresh';
  button.className = 'button';
  button.textContent = 'Refresh the tokens';
  button.addEventListener('click', async () => {
    button.disabled = true;
    const refreshRequest = {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: config.clientId,
    };
    const refreshed = await postForm(refreshRequest);
    const title = '7. Refresh (the refresh token rotates)';
    if (refreshed.status !== 200) {
      fail('refresh', title, 'The token endpoint refused the refresh token.', httpDetails(refreshed));
      return;
    }
    showStep(
      'refresh',
      title,
      'A new access token and a new refresh token; the old refresh token is now consumed, and presenting it again would revoke the whole grant.',
      `POST ${config.tokenPath}\n${new URLSearchParams(refreshRequest)}\n\n${httpDetails(refreshed)}`,
    );
    await callMe(refreshed.body.access_token, '8. GET /me with the new access token');
    actions.replaceChildren(startOverLink('Start over'));
  });
  actions.replaceChildren(button, startOverLink('Start over'));
}

function postForm(fields) {
  return fetchJson(config.tokenPath, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
}

async function fetchJson(path, init) {
  const response = await fetch(path, { ...init, cache: 'no-store', credentials: 'omit' });
  const text = await response.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: response.status, body };
}

const httpDetails = (answer) =>
  `HTTP ${answer.status}\n${typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body, null, 2)}`;

const run = location.pathname === config.callbackPath ? callback : start;
run().catch((error) => fail('unexpected', 'Something went wrong', String(error)));
