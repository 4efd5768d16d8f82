/**
 * The platform as a benchmark target, in a process of its own: `node --import tsx bench/support/bench-server.ts`.
 *
 * Builds the test app (fresh database, temp blob directory, frozen ControllableClock at T0, workers started), a world
 * with one published tender and one bidder, listens on a free loopback port and prints ONE JSON line (BenchWorld)
 * on stdout. It is a benchmark world on this machine only: the line carries the bidder's token and private signing
 * key so the client can seal and sign a bid. The clock is frozen, so the 15-minute token never expires.
 *
 * Runs on in-memory PGlite, or on a fresh database of the PostgreSQL server at DATABASE_URL (see test/support/env.ts).
 * Stops (removing its database and blob directory) when stdin closes, or on SIGTERM/SIGINT.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createTestApp } from '../../test/support/app';
import { dropCreatedDatabases } from '../../test/support/env';
import { bearer, createCustodianMembers, createMember, tenderBody, uploadDocument } from '../../test/support/factories';
import { stopWithParent } from './child-lifecycle';

export interface BenchWorld {
  pid: number;
  port: number;
  /** Platform time (frozen): the signing time to claim. */
  platformTime: string;
  tenderId: string;
  sectionId: string;
  openingCertificatePem: string;
  bidder: { token: string; signingKeyPem: string; signingCertificatePem: string; encryptionCertificatePem: string };
  blobDir: string;
}

// Bids of any size the benchmark asks for (the config's ceiling). Read when the test app loads its config.
process.env.BID_MAX_BYTES ||= String(64 * 1024 ** 3);

async function main(): Promise<void> {
  const t = await createTestApp('bench');
  let server: ReturnType<typeof t.app.listen> | undefined;
  stopWithParent(async () => {
    server?.closeAllConnections();
    server?.close();
    await t.close();
    await dropCreatedDatabases(); // with DATABASE_URL: the database this run created
  });

  // custodians first: the default opening-key custodians are the first regulator and the trading centre
  await createCustodianMembers(t);
  const agency = await createMember(t, 'agency');
  const bidder = await createMember(t, 'bidder');
  const tenderer = await createMember(t, 'tenderer');
  const draft = await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201);
  await uploadDocument(t, agency.token, draft.body.id);
  const tender = (await t.http.post(`/api/v1/tenders/${draft.body.id}/publish`).set(bearer(agency.token)).expect(200)).body;
  const opening = await t.http.get(`/api/v1/tenders/${tender.id}/opening-key`).set(bearer(bidder.token)).expect(200);

  server = t.app.listen(0, '127.0.0.1');
  // as src/server.ts: uploads stream for as long as they need
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  await once(server, 'listening');

  const world: BenchWorld = {
    pid: process.pid,
    port: (server.address() as AddressInfo).port,
    platformTime: t.clock.now().toISOString(),
    tenderId: tender.id,
    sectionId: tender.sections[0].id,
    openingCertificatePem: opening.body.certificatePem,
    bidder: {
      token: bidder.token,
      signingKeyPem: bidder.signingKeys.privateKeyPem,
      signingCertificatePem: bidder.signingCertPem,
      encryptionCertificatePem: bidder.encryptionCertPem,
    },
    blobDir: t.blobDir,
  };
  process.stdout.write(`${JSON.stringify(world)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
