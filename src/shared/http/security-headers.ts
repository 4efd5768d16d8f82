/**
 * Security headers on every answer, pages and API alike, from one place (helmet). The pages build their DOM from
 * text nodes and load only their own script and stylesheet, so the policy allows nothing else; an API answer is
 * never a document, so the same strict policy costs it nothing and keeps a JSON body from running if opened as one.
 */
import helmet from 'helmet';

export const CONTENT_SECURITY_POLICY = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:', 'blob:'],
  connectSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
};

export function securityHeaders() {
  return helmet({
    // only our directives: helmet's defaults add upgrade-insecure-requests, which breaks http://127.0.0.1
    contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
    frameguard: { action: 'deny' },
    // the hall's live feed carries its token in the query (EventSource): never send a page's address elsewhere
    referrerPolicy: { policy: 'no-referrer' },
  });
}
