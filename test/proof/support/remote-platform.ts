/**
 * The test's view of a deployment behind the proxy: the shape the test factories take (`http`, `clock`), pointed at
 * a URL instead of an in-process app, and platform time moved the way an operator moves it — through the
 * platform-time route of one chosen API process, the others (and the workers) following over the event bus.
 *
 * The factories read `clock.now()` for signing times; here that is a local mirror of the deployment's clock, set to
 * what the route answered (the child processes' clocks run from an offset, and so does the mirror).
 */
import supertest from 'supertest';
import { ControllableClock } from '../../../src/shared/clock';
import type { TestApp } from '../../support/app';
import { ADMIN_PASSWORD } from '../../support/app';
import { bearer } from '../../support/factories';
import { pollUntil } from '../../support/poll';

export interface RemotePlatform {
  url: string;
  http: ReturnType<typeof supertest>;
  clock: ControllableClock;
  /** The factories' TestApp: only `http` and `clock` are there (no in-process context). */
  app: TestApp;
  operatorToken(url?: string): Promise<string>;
  /** Moves platform time through the route of the API at `viaUrl`, then waits until every API shows it. */
  moveClock(at: Date, viaUrl: string, allApiUrls: string[]): Promise<void>;
}

export function remotePlatform(url: string): RemotePlatform {
  const http = supertest(url);
  const clock = new ControllableClock();
  const operatorToken = async (base = url) =>
    (await supertest(base).post('/api/v1/auth/password-login').send({ username: 'admin', password: ADMIN_PASSWORD }).expect(200)).body.token as string;
  return {
    url,
    http,
    clock,
    app: { http, clock } as unknown as TestApp,
    operatorToken,
    async moveClock(at, viaUrl, allApiUrls) {
      const res = await supertest(viaUrl).post('/api/v1/dev/clock').set(bearer(await operatorToken(viaUrl))).send({ at: at.toISOString() }).expect(200);
      clock.set(new Date(res.body.now));
      for (const api of allApiUrls) {
        await pollUntil(`platform time on ${api} to follow the move`, async () => {
          const shown = (await supertest(api).get('/api/v1/time').expect(200)).body.now as string;
          // the clocks run on from the move: the same instant, give or take the time this check takes
          return Math.abs(new Date(shown).getTime() - clock.now().getTime()) < 2_000;
        });
      }
    },
  };
}
