/**
 * The pages' scripts: TypeScript under client/, bundled on first request with esbuild (the bundler tsx already
 * runs on) and kept in memory. No build step: `npm start` and `npm test` serve the same sources they check.
 * Always minified and kept gzipped too — a bidder on a slow line loads a page's script in ~10–15 KB — with the
 * source map beside it, which browsers fetch only when someone opens the developer tools.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const CLIENT_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client');

export interface Bundle {
  code: Buffer;
  gzip: Buffer;
  map: Buffer;
  etag: string;
}

export class ScriptBundles {
  private readonly cache = new Map<string, Promise<Bundle>>();

  /** The bundle of client/pages/<page>.ts; the page name comes from the page table, never from the request. */
  get(page: string): Promise<Bundle> {
    let bundle = this.cache.get(page);
    if (!bundle) {
      bundle = this.compile(page);
      // a failed compile (a syntax error while developing) is not remembered: the next request tries again
      bundle.catch(() => this.cache.delete(page));
      this.cache.set(page, bundle);
    }
    return bundle;
  }

  private async compile(page: string): Promise<Bundle> {
    const result = await build({
      entryPoints: [path.join(CLIENT_DIR, 'pages', `${page}.ts`)],
      bundle: true,
      format: 'esm',
      target: 'es2022',
      platform: 'browser',
      write: false,
      outdir: 'assets',
      minify: true,
      sourcemap: 'linked',
      sourcesContent: true,
      charset: 'utf8',
      legalComments: 'none',
      logLevel: 'silent',
    });
    const file = (ext: string) => Buffer.from(result.outputFiles.find((f) => f.path.endsWith(ext))!.contents);
    const code = file('.js');
    return {
      code,
      gzip: zlib.gzipSync(code, { level: 9 }),
      map: file('.js.map'),
      etag: `"${crypto.createHash('sha256').update(code).digest('base64url').slice(0, 27)}"`,
    };
  }
}
