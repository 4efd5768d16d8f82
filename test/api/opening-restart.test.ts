import assert from 'node:assert/strict';
import { MINUTE_MS } from '../../src/shared/clock';
import { createTestApp, restartTestApp, runDueJobs, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, refresh } from '../support/factories';
import { keyBody, postKey, world } from '../support/opening-world';

describe('opening: a restart in the middle of decryption', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp('opening-restart', { restartable: true });
    await createCustodianMembers(t);
  });
  after(() => t.close());

  it('when the platform stops with keys received and restarts, then the opening resumes and no bid is decrypted twice', async () => {
    const w = await world(t, [1_000_000_000, 990_000_000, 1_010_000_000]);
    t.clock.freeze(new Date(w.tender.bidDeadline));
    await runDueJobs(t);
    await refresh(t, w.agency, ...w.entries.map((e) => e.member));
    for (const e of w.entries) await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/sign-in`).set(bearer(e.member.token)).expect(200);
    await t.http.post(`/api/v1/tenders/${w.tender.id}/opening/start-decryption`).set(bearer(w.agency.token)).expect(200);
    for (const e of w.entries) await postKey(t, w.tender.id, e, await keyBody(e, t)).expect(202);

    // the process dies before any decryption job ran: the keys wait sealed in PostgreSQL, the jobs in the outbox
    t = await restartTestApp(t);
    await refresh(t, w.agency, ...w.entries.map((e) => e.member));
    const hall = await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200);
    assert.equal(hall.body.state, 'decrypting', 'the opening is where it was');
    await runDueJobs(t);
    const decrypted = await t.ctx.db('bid_decryptions').where({ tender_id: w.tender.id, status: 'decrypted' });
    assert.equal(decrypted.length, 3);

    // a job delivered again (its completion was lost with a crash) finds its bid opened and does nothing
    await t.ctx.db('outbox').where({ name: 'opening.decrypt' }).update({ status: 'pending', finished_at: null });
    t = await restartTestApp(t);
    await runDueJobs(t);
    const opened = await t.ctx.db('audit_events').where({ tender_id: w.tender.id, action: 'opening.decrypted' });
    assert.deepEqual(opened.map((e) => e.object_id).sort(), w.entries.map((e) => e.bidId).sort(), 'each bid decrypted exactly once');

    t.clock.freeze(new Date(t.clock.now().getTime() + 30 * MINUTE_MS));
    await runDueJobs(t);
    await refresh(t, w.agency);
    assert.equal((await t.http.get(`/api/v1/tenders/${w.tender.id}/opening`).set(bearer(w.agency.token)).expect(200)).body.state, 'announcing');
  });
});
