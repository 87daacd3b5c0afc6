import { createHash } from 'node:crypto';

/** HTML that is already safe: only `html` makes one, so nothing unescaped slips in by accident. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

export const escapeHtml = (text: string): string =>
  text.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);

type Interpolation = SafeHtml | string | number | undefined | null | false | readonly Interpolation[];

const render = (value: Interpolation): string => {
  if (value === undefined || value === null || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
};

/** The one way pages are built: every interpolation is escaped unless it is itself `html` output. */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, index) => {
    out += render(value) + (strings[index + 1] ?? '');
  });
  return new SafeHtml(out);
}

/** The only stylesheet: inline, allowed by its hash in the CSP (no external assets, no 'unsafe-inline'). */
const STYLE = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330;margin:0}
main{max-width:24rem;margin:10vh auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px rgba(0,0,0,.15)}
h1{font-size:1.35rem;margin:0 0 .5rem}
p{margin:.25rem 0 1rem;line-height:1.4}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=text],input[type=password]{width:100%;box-sizing:border-box;padding:.55rem;font-size:1rem;border:1px solid #8a94a6;border-radius:4px}
input:focus,button:focus{outline:3px solid #2f6fde;outline-offset:1px}
button{margin-top:1.5rem;width:100%;padding:.65rem;font-size:1rem;font-weight:600;color:#fff;background:#1f5fcf;border:0;border-radius:4px;cursor:pointer}
.error{background:#fdecea;border:1px solid #d93025;color:#8c1d18;padding:.6rem .75rem;border-radius:4px}
.client{font-weight:600}
`;

const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

/**
 * Headers for every page of the authorize endpoint: never stored, never framed, no script at all,
 * the one inline stylesheet by hash. `form-action` lists the redirect URI's origin as well as 'self':
 * Chromium applies form-action to the redirect that follows a form post, so 'self' alone would block
 * the 302 back to the client.
 */
export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const formAction = ["'self'", ...formTargets].join(' ');
  return {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    Pragma: 'no-cache',
    'Content-Security-Policy': [
      "default-src 'none'",
      `style-src ${STYLE_HASH}`,
      `form-action ${formAction}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
  };
}

const layout = (title: string, body: SafeHtml): string =>
  html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>${new SafeHtml(STYLE)}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`.value;

export interface SignInPageModel {
  readonly clientName: string;
  /** The authorization request, carried through the form as hidden fields. */
  readonly hiddenFields: ReadonlyArray<readonly [string, string]>;
  readonly formToken: string;
  readonly message?: string;
  readonly username?: string;
}

/**
 * The hosted sign-in page: a plain form (works without JavaScript) posting to the relative action
 * `authorize`, which resolves to this same path under any stage prefix (`/prod/oauth2/authorize`).
 */
export function renderSignInPage(model: SignInPageModel): string {
  return layout(
    'Sign in',
    html`<h1>Sign in</h1>
<p>to continue to <span class="client">${model.clientName}</span></p>
${model.message === undefined ? '' : html`<p class="error" role="alert" id="sign-in-error">${model.message}</p>`}
<form method="post" action="authorize">
${model.hiddenFields.map(([name, value]) => html`<input type="hidden" name="${name}" value="${value}">\n`)}<input type="hidden" name="form_token" value="${model.formToken}">
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required value="${model.username ?? ''}"${model.message === undefined ? '' : html` aria-describedby="sign-in-error"`}>
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
  );
}

/** An error the user must see here, because it cannot be sent to an unverified redirect URI. */
export function renderErrorPage(title: string, message: string): string {
  return layout(
    title,
    html`<h1>${title}</h1>
<p class="error" role="alert">${message}</p>
<p>Go back to the application you came from and try again.</p>`,
  );
}
