/**
 * The HTML shell, the init script and the theme for `GET /docs`. The page has no inline
 * script or style: everything is a same-origin file, so the CSP can be strict.
 * URLs are relative so the page also works behind a path-prefixing reverse proxy.
 */

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export function docsHtml(version: string): string {
  const v = encodeURIComponent(version);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>BYO API reference</title>
<link rel="icon" type="image/png" sizes="32x32" href="docs/assets/favicon-32x32.png?v=${v}">
<link rel="stylesheet" href="docs/assets/swagger-ui.css?v=${v}">
<link rel="stylesheet" href="docs/assets/docs.css?v=${v}">
</head>
<body>
<header class="byo-header">
  <span class="byo-title">BYO API reference</span>
  <nav>
    <a href="v1/openapi.json">openapi.json</a>
  </nav>
</header>
<noscript><p class="byo-noscript">This page needs JavaScript. The raw document is at <a href="v1/openapi.json">/v1/openapi.json</a>.</p></noscript>
<main id="swagger-ui" aria-live="polite"></main>
<script src="docs/assets/swagger-ui-bundle.js?v=${v}"></script>
<script src="docs/assets/init.js?v=${v}"></script>
</body>
</html>
`;
}

/** Runs in the browser. Plain ES2017, no module syntax. */
export const INIT_SCRIPT = `'use strict';
(function () {
  var spec = new URL('v1/openapi.json', document.baseURI).href;
  window.ui = SwaggerUIBundle({
    url: spec,
    dom_id: '#swagger-ui',
    deepLinking: true,
    docExpansion: 'list',
    defaultModelsExpandDepth: 0,
    displayRequestDuration: true,
    // Secrets typed into "Authorize" stay in memory only, never localStorage.
    persistAuthorization: false,
    requestSnippetsEnabled: true,
    requestSnippets: { defaultExpanded: true, languages: ['curl_bash'] },
    // No call to validator.swagger.io: the page talks to this server only.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl],
    layout: 'BaseLayout'
  });
})();
`;

export const DOCS_CSS = `body { margin: 0; background: #fafafa; }
.byo-header { display: flex; align-items: center; justify-content: space-between; padding: 12px 24px;
  background: #111827; color: #f9fafb; font: 600 16px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
.byo-header a { color: #93c5fd; font-weight: 400; text-decoration: none; margin-left: 16px; }
.byo-header a:hover, .byo-header a:focus { text-decoration: underline; }
.byo-noscript { padding: 24px; font: 16px system-ui, sans-serif; }
.swagger-ui .information-container .info { margin: 24px 0; }
`;
