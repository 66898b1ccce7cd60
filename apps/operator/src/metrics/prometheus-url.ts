/**
 * A Prometheus base URL in one spelling (lower-case host, no default port, no trailing slash),
 * so an allowed endpoint and the one a policy names compare equal; undefined when it is not an
 * http(s) URL without query or fragment.
 */
export function normalizePrometheusUrl(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return undefined;
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.search || url.hash) return undefined;
  // a bare '?' or '#' leaves search and hash empty but stays in href
  url.search = '';
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}
