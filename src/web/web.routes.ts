/**
 * The web pages, served by the same express app as the API: HTML shells, their scripts and one stylesheet.
 * The pages speak to the API with a bearer token kept in the tab's sessionStorage, never in a cookie, so a
 * request another site makes the browser send carries no credential (no CSRF surface). The headers that keep the
 * pages from being framed, sniffed or made to run anyone else's script are set for every answer by
 * shared/http/security-headers (helmet), and cross-site state changes are refused by shared/http/csrf.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type NextFunction, type Router } from 'express';
import { PAGES, renderShell, type PageName } from './pages';
import { ScriptBundles } from './bundle';

const STYLESHEET = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client', 'app.css');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function webRoutes(opts: { platformName: string }): Router {
  const router = express.Router();
  const bundles = new ScriptBundles();

  const page = (name: PageName, data: (req: Request) => Record<string, string> | null = () => ({})) =>
    (req: Request, res: Response, next: NextFunction) => {
      const values = data(req);
      if (values === null) return next();
      res.setHeader('Cache-Control', 'no-store');
      res.type('html').send(renderShell(name, opts.platformName, values));
    };

  router.get('/', page('home'));
  router.get('/bidder', page('bidder'));
  router.get('/agency', page('agency'));
  router.get('/regulator', page('regulator'));
  router.get('/hall/:tenderId', page('hall', (req) => (UUID.test(String(req.params.tenderId)) ? { tenderId: String(req.params.tenderId) } : null)));

  const scripts = new Set(Object.values(PAGES).map((p) => p.script));
  router.get('/assets/:file', async (req, res, next) => {
    const m = /^([a-z-]+)\.js(\.map)?$/.exec(String(req.params.file));
    if (!m || !scripts.has(m[1])) return next();
    try {
      const bundle = await bundles.get(m[1]);
      res.setHeader('Cache-Control', 'no-cache');
      if (m[2]) return void res.type('application/json; charset=utf-8').send(bundle.map);
      res.setHeader('ETag', bundle.etag);
      res.setHeader('Vary', 'Accept-Encoding');
      if (req.get('if-none-match') === bundle.etag) return void res.status(304).end();
      res.type('application/javascript; charset=utf-8');
      if (/\bgzip\b/.test(req.get('accept-encoding') ?? '')) {
        res.setHeader('Content-Encoding', 'gzip');
        return void res.send(bundle.gzip);
      }
      res.send(bundle.code);
    } catch (err) {
      next(err);
    }
  });
  // read once, like the scripts: not a disk read per page view
  let stylesheet: Buffer | null = null;
  router.get('/assets/app.css', (_req, res) => {
    stylesheet ??= fs.readFileSync(STYLESHEET);
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/css; charset=utf-8').send(stylesheet);
  });
  return router;
}
