/**
 * The rule engine's moments: the scan runs as a job every MONITORING_SCAN_SECONDS and schedules its successor (one per
 * slot however often it is asked), the nightly run likewise once per day; the scan reads each audit event once.
 */
import assert from 'node:assert/strict';
import { createTestApp, runDueJobs, type TestApp } from '../support/app';
import { scheduleRuleJobs, NIGHTLY_RULES_JOB, SCAN_JOB } from '../../src/monitoring/rules/rules.jobs';
import { createMember } from '../support/factories';

describe('monitoring rule engine', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp('rule-engine');
  });
  after(() => t.close());

  const openJobs = (name: string) => t.ctx.db('outbox').where({ name }).whereIn('status', ['pending', 'enqueued']).orderBy('id');
  const schedule = () => t.ctx.db.transaction((trx) => scheduleRuleJobs(trx, t.clock.now(), t.ctx.config.monitoring.scanSeconds));

  it('schedules one scan per slot and one nightly run, whoever asks and however often', async () => {
    await schedule();
    await schedule();
    const scans = await openJobs(SCAN_JOB.name);
    assert.equal(scans.length, 1);
    const seconds = t.ctx.config.monitoring.scanSeconds;
    const runAt = new Date(scans[0].run_at).getTime();
    assert.ok(runAt > t.clock.now().getTime() && runAt <= t.clock.now().getTime() + seconds * 1000);
    const nightly = await openJobs(NIGHTLY_RULES_JOB.name);
    assert.equal(nightly.length, 1);
    // 02:00 Asia/Shanghai the next day
    assert.equal(new Date(nightly[0].run_at).toISOString(), '2026-11-23T18:00:00.000Z');
  });

  it('the due scan reads the new events once, moves its cursor and schedules its successor', async () => {
    await createMember(t, 'bidder'); // some activity on the chain
    t.clock.advance(t.ctx.config.monitoring.scanSeconds * 1000);
    await runDueJobs(t);
    const head = Number((await t.ctx.db('audit_events').max('seq as seq').first())!.seq);
    const cursor = await t.ctx.db('monitoring_cursors').where({ name: 'rules-scan' }).first();
    // the cursor stands at the head as the scan found it (events appended after it, if any, wait for the next scan)
    assert.ok(Number(cursor.seq) > 0 && Number(cursor.seq) <= head);
    const scans = await openJobs(SCAN_JOB.name);
    assert.equal(scans.length, 1, 'the successor');
    assert.ok(new Date(scans[0].run_at).getTime() > t.clock.now().getTime());
    const again = await t.ctx.services.monitoring.scan();
    assert.equal(again.events, head - Number(cursor.seq), 'nothing read twice');
  });
});
