import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { seededRandom } from '../../src/shared/seeded-random';
import { createCustodianMembers, refresh } from '../support/factories';
import { flushRedisPrefix, testBaseConfig } from '../support/env';
import { pollUntil } from '../support/poll';
import { recordFault } from './support/fault-table';
import { startDeployment, type Deployment } from './support/deployment';
import { watchHall, type HallViewer } from './support/hall-viewer';
import {
  CHUNK_BYTES, ENVELOPE_BYTES, chainVerifies, checkBids, checkOpeningSteps, createParties, publishTender, runOpening, rush, sealBids, type Parties,
} from './support/opening-run';
import { remotePlatform, type RemotePlatform } from './support/remote-platform';
import { startRoundRobinProxy, type RoundRobinProxy } from './support/round-robin-proxy';

const BIDDERS = 20;
const CHUNKS = Math.ceil(ENVELOPE_BYTES / CHUNK_BYTES);
const SEED = Number(process.env.PROOF_SEED ?? crypto.randomInt(1, 2 ** 31));

/**
 * Scale-out: two API processes and two workers on one PostgreSQL database, one Redis prefix and one blob directory,
 * behind a round-robin proxy; then the same with processes SIGKILLed at seeded-random points.
 */
describe('proof: two API processes and two workers behind a round-robin proxy', function () {
  this.timeout(300_000);
  let d: Deployment;
  let proxy: RoundRobinProxy;
  let p: RemotePlatform;
  let parties: Parties;
  const viewers: HallViewer[] = [];
  const started = Date.now();

  before(async function () {
    console.log(`      scale-out proof seed ${SEED} (PROOF_SEED=${SEED} repeats this run)`);
    d = await startDeployment('scaleout');
    console.log(`      2 APIs and 2 workers started in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    proxy = await startRoundRobinProxy(d.apis.map((a) => () => a.port!));
    p = remotePlatform(proxy.url);
    await createCustodianMembers(p.app);
    parties = await createParties(p, BIDDERS);
    console.log(`      ${BIDDERS + 4} members enrolled through the proxy; ${((Date.now() - started) / 1000).toFixed(1)} s so far`);
  });

  after(async function () {
    for (const v of viewers) v.close();
    await proxy?.close();
    await d?.stop();
    const redisUrl = testBaseConfig().redis.url;
    if (d && redisUrl) await flushRedisPrefix(redisUrl, d.prefix);
    console.log(`      scale-out proof: ${((Date.now() - started) / 1000).toFixed(1)} s in all`);
  });

  it('when 20 bidders rush 1 MiB bids through the proxy, some lines dropping, and the opening runs, then every process agrees and nothing is lost', async () => {
    const pt = await publishTender(p, parties, '西安市第九十中学体育馆建设工程');
    const sealed = await sealBids(p, parties, pt, SEED);
    // every fourth bidder's line drops a third of the way into its first chunk; it resumes from the server's offset
    const dropping = new Set(sealed.map((_, i) => i).filter((i) => i % 4 === 0));
    const { entries, outcomes } = await rush(p, pt, sealed, (i) => ({ chunkBytes: CHUNK_BYTES, ...(dropping.has(i) ? { dropAfterBytes: Math.floor(CHUNK_BYTES / 3) } : {}) }));
    assert.ok(outcomes.filter((_, i) => dropping.has(i)).every((o) => o.resumes >= 1), 'every dropped line was resumed');
    assert.ok(proxy.counts.every((n) => n > 0), `both APIs served (${proxy.counts.join(' / ')})`);
    const bids = await checkBids(p, d, pt, entries);
    assert.deepEqual(bids, { lost: 0, duplicated: 0, verifiedReceipts: BIDDERS });
    assert.ok(await chainVerifies(d));
    recordFault({
      fault: 'client lines dropped mid-chunk',
      during: `${BIDDERS} bid uploads of 1 MiB through the proxy, 2 APIs`,
      outcome: `${BIDDERS}/${BIDDERS} bids with verified RFC 3161 receipts, hashes equal`,
      lost: bids.lost,
      duplicated: bids.duplicated,
      auditChainVerified: true,
      resumed: `${dropping.size} uploads resumed from the stored offset`,
    });

    // viewers straight on each API process (not through the proxy): both must see the same opening
    const opening = await runOpening(p, d, parties, pt, entries, {
      onHallOpen: () => {
        for (let i = 0; i < d.apis.length; i++) viewers.push(watchHall(d.apiUrl(i), pt.tender.id, () => parties.agency.token));
      },
    });
    await checkOpeningSteps(d, pt.tender.id, entries);
    const live = (await d.db('live_events').where({ tender_id: pt.tender.id }).orderBy('seq')).map((e) => `${e.seq} ${e.type}`);
    const [a, b] = viewers.slice(-2) as [HallViewer, HallViewer];
    await pollUntil('both viewers to see the whole opening', () => a.events.length === live.length && b.events.length === live.length, { timeoutMs: 15_000 });
    const seen = (v: HallViewer) => v.events.map((e) => `${e.seq} ${e.type}`);
    assert.deepEqual(seen(a), live, 'the viewer on API 1 saw the hall’s whole log, in order');
    assert.deepEqual(seen(b), seen(a), 'the viewers on API 1 and API 2 saw the same sequence');
    assert.equal(a.events.filter((e) => e.type === 'opening.sign-in').length, BIDDERS);
    assert.equal(a.events.at(-1)?.type, 'opening.transition');
    assert.equal(a.events.at(-1)?.data.to, 'closed');
    assert.ok(await chainVerifies(d));
    console.log(`      opening of ${BIDDERS} bids over ${opening.minutes} platform minutes; ${live.length} hall events seen alike on both APIs; requests per API ${proxy.counts.join(' / ')}`);
  });

  it('when an API process is SIGKILLed in the rush and a worker at a random point of the opening, then after restarts nothing is lost or done twice', async () => {
    const random = seededRandom(SEED);
    const pt = await publishTender(p, parties, '西安市第九十一中学图书馆建设工程');
    await refresh(p.app, ...parties.bidders);
    const sealed = await sealBids(p, parties, pt, SEED + 1);

    // the API dies once this many chunks (of all bidders together) are stored
    const killAfterChunks = 1 + Math.floor(random() * (BIDDERS * CHUNKS * 0.6));
    const victim = d.apis[Math.floor(random() * d.apis.length)]!;
    let stored = 0;
    let restarted: Promise<void> | undefined;
    let storedAtKill = 0;
    const { entries, outcomes } = await rush(p, pt, sealed, () => ({
      chunkBytes: CHUNK_BYTES,
      onProgress: (offset) => {
        if (offset === 0) return;
        stored += 1;
        if (!restarted && stored >= killAfterChunks) {
          storedAtKill = stored;
          restarted = d.kill(victim).then(() => d.restart(victim));
        }
      },
    }));
    assert.ok(restarted, 'the kill happened during the rush');
    await restarted;
    // the restarted process took the deployment's platform time from the stored setting, not its own start
    const times = await Promise.all(d.apis.map(async (_, i) => new Date(((await (await fetch(`${d.apiUrl(i)}/api/v1/time`)).json()) as { now: string }).now).getTime()));
    assert.ok(Math.abs(times[0]! - times[1]!) < 2_000 && Math.abs(times[0]! - p.clock.now().getTime()) < 2_000, `platform times ${times.map((x) => new Date(x).toISOString()).join(' / ')}`);
    const resumed = outcomes.reduce((n, o) => n + o.resumes, 0);
    const bids = await checkBids(p, d, pt, entries);
    assert.deepEqual(bids, { lost: 0, duplicated: 0, verifiedReceipts: BIDDERS });
    assert.ok(await chainVerifies(d));
    recordFault({
      fault: `API process SIGKILL (${victim.name})`,
      during: `${BIDDERS} bid uploads of 1 MiB in flight, after ${storedAtKill} chunk(s) stored (seed ${SEED})`,
      outcome: `${BIDDERS}/${BIDDERS} bids with verified receipts, hashes equal`,
      lost: bids.lost,
      duplicated: bids.duplicated,
      auditChainVerified: true,
      resumed: `${resumed} request(s) resumed through the proxy on the other API; ${victim.name} restarted`,
    });

    // the worker dies at one of the opening's points: after the k-th key handed over (decryptions running), at the
    // window's end, or at the confirmations' end
    const points = BIDDERS + 2;
    const point = Math.floor(random() * points);
    const worker = d.workers[Math.floor(random() * d.workers.length)]!;
    let where = '';
    const killWorker = async (at: string) => {
      where = at;
      await d.kill(worker);
      await d.restart(worker);
    };
    const decrypted = async () => (await d.db('bid_decryptions').where({ tender_id: pt.tender.id, status: 'decrypted' })).length;
    await runOpening(p, d, parties, pt, entries, {
      afterKey: async (posted) => {
        if (posted !== point + 1) return;
        const opened = await decrypted();
        await killWorker(`decryption, ${posted}/${BIDDERS} keys handed over, ${opened} bids opened`);
      },
      afterWindowEnd: async () => {
        if (point === BIDDERS) await killWorker('the decryption window closing');
      },
      afterConfirmationEnd: async () => {
        if (point === BIDDERS + 1) await killWorker('the confirmation period closing');
      },
    });
    const steps = await checkOpeningSteps(d, pt.tender.id, entries);
    const after = await checkBids(p, d, pt, entries);
    assert.ok(await chainVerifies(d));
    const opened = await d.db('audit_events').where({ tender_id: pt.tender.id, action: 'opening.decrypted' });
    recordFault({
      fault: `worker process SIGKILL (${worker.name})`,
      during: `the opening of ${BIDDERS} bids, at ${where} (seed ${SEED})`,
      outcome: `${opened.length}/${BIDDERS} bids decrypted once, prices read, signed record verified, closed`,
      lost: after.lost + (BIDDERS - opened.length),
      duplicated: after.duplicated + (steps.decryptedOnce ? 0 : 1),
      auditChainVerified: true,
      resumed: `${worker.name} restarted; the opening went on from '${where}', each step once`,
    });
  });
});
