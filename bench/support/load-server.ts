/**
 * The platform for the API-load benchmark, in a process of its own: `node --import tsx bench/support/load-server.ts`.
 *
 * The test app (fresh database, frozen ControllableClock at T0, so the tokens it hands out never expire) with a world
 * of LOAD_TENDERS published tenders (default 200), a bidder who reads them and the agency that owns them. Prints ONE
 * JSON line (LoadServerInfo) with the bidder's and the agency's tokens (a benchmark world on this machine only) and
 * the tender ids. A control port answers GET /audit with the audit chain's verification (AuditService.verify), so the
 * benchmark can count what was appended during the load and check the chain after it.
 *
 * Runs on PGlite or, with DATABASE_URL/REDIS_URL, on PostgreSQL and Redis. Stops when stdin closes, or on SIGTERM/SIGINT.
 */
import http from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createTestApp } from '../../test/support/app';
import { dropCreatedDatabases } from '../../test/support/env';
import { bearer, createCustodianMembers, createMember, tenderBody, uploadDocument } from '../../test/support/factories';
import { stopWithParent } from './child-lifecycle';

export interface LoadServerInfo {
  pid: number;
  port: number;
  controlPort: number;
  bidderToken: string;
  agencyToken: string;
  tenderIds: string[];
}

async function main(): Promise<void> {
  const count = Number(process.env.LOAD_TENDERS ?? 200);
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`LOAD_TENDERS must be a positive integer, not ${process.env.LOAD_TENDERS}`);
  const t = await createTestApp('load');
  let server: http.Server | undefined;
  let control: http.Server | undefined;
  stopWithParent(async () => {
    control?.close();
    server?.closeAllConnections();
    server?.close();
    await t.close();
    await dropCreatedDatabases();
  });

  await createCustodianMembers(t);
  const agency = await createMember(t, 'agency');
  const tenderer = await createMember(t, 'tenderer');
  const bidder = await createMember(t, 'bidder');
  const tenderIds: string[] = [];
  const t0 = performance.now();
  let next = 0;
  // two at a time: publishing makes each tender's opening key (RSA) and seals its custody shares
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      while (next < count) {
        const n = next++;
        const body = tenderBody(tenderer.orgId, t.clock.now(), { name: `某市第${n + 1}号道路改造工程施工` });
        const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(body).expect(201);
        await uploadDocument(t, agency.token, draft.body.id);
        await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200);
        tenderIds.push(draft.body.id);
        if (tenderIds.length % 50 === 0) process.stderr.write(`[load-server] ${tenderIds.length}/${count} tenders published (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
      }
    }),
  );

  server = t.app.listen(0, '127.0.0.1');
  server.keepAliveTimeout = 65_000;
  await once(server, 'listening');
  control = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url !== '/audit') {
      res.writeHead(404).end();
      return;
    }
    t.ctx.services.audit.verify().then(
      (result) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(result)),
      (err: Error) => res.writeHead(500).end(err.message),
    );
  });
  control.listen(0, '127.0.0.1');
  await once(control, 'listening');

  const info: LoadServerInfo = {
    pid: process.pid,
    port: (server.address() as AddressInfo).port,
    controlPort: (control.address() as AddressInfo).port,
    bidderToken: bidder.token,
    agencyToken: agency.token,
    tenderIds,
  };
  process.stdout.write(`${JSON.stringify(info)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
