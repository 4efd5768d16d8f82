import assert from 'node:assert/strict';
import { CalendarYearMissing } from '../../src/calendar/calendar.errors';
import { createTestApp, type TestApp } from '../support/app';
import { bearer, createMember, operatorToken, type Member } from '../support/factories';

/** A short schedule for 2027, as an operator would enter it from the notice. */
const notice2027 = {
  year: 2027,
  notice: '国务院办公厅关于2027年部分节假日安排的通知',
  holidays: [
    { from: '2027-01-01', to: '2027-01-03', name: '元旦' },
    { from: '2027-02-06', to: '2027-02-14', name: '春节' },
  ],
  workdays: [{ date: '2027-02-20', name: '调休上班' }],
};

describe('calendar: working days, published years, a missing year refused and alerted', () => {
  let t: TestApp;
  let bidder: Member;
  let regulator: Member;
  let op: string;

  const workingDays = (token: string, from: string, add: number | string) =>
    t.http.get(`/api/v1/calendar/working-days?from=${from}&add=${add}`).set(bearer(token));
  const missingAlerts = () => t.ctx.db('alerts').where({ rule: 'calendar-year-missing' });
  const stored2027 = async () => ({
    years: Number((await t.ctx.db('calendar_years').where({ year: 2027 }).count({ n: '*' }))[0].n),
    days: Number((await t.ctx.db('calendar_days').where({ year: 2027 }).count({ n: '*' }))[0].n),
    events: Number((await t.ctx.db('audit_events').where('action', 'like', 'calendar.year.%').count({ n: '*' }))[0].n),
  });

  before(async () => {
    t = await createTestApp('calendar');
    bidder = await createMember(t, 'bidder');
    regulator = await createMember(t, 'regulator');
    op = await operatorToken(t);
  });
  after(() => t.close());

  it('when a signed-in user asks for 2 working days after Friday 2026-02-13, then the answer is Tuesday 2026-02-24 (春节 and its make-up Saturday)', async () => {
    const res = await workingDays(bidder.token, '2026-02-13', 2).expect(200);
    assert.deepEqual(res.body, { from: '2026-02-13', add: 2, date: '2026-02-24', weekday: 2, weekdayName: '星期二' });
    const across = await workingDays(bidder.token, '2025-12-31', 2).expect(200);
    assert.equal(across.body.date, '2026-01-05', 'across the year end, 1/4 a Sunday worked');
    assert.equal((await workingDays(bidder.token, '2026-02-15', 0).expect(200)).body.date, '2026-02-15');
    await t.http.get('/api/v1/calendar/working-days?from=2026-02-13&add=2').expect(401);
  });

  it('when the query is malformed, then VALIDATION_FAILED names the field', async () => {
    for (const [from, add, field] of [['2026-02-30', 2, 'query.from'], ['2026/02/13', 2, 'query.from'], ['2026-02-13', -1, 'query.add'], ['2026-02-13', 'two', 'query.add']] as const) {
      const res = await workingDays(bidder.token, from, add).expect(400);
      assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      assert.ok(res.body.error.details.issues.some((i: { path: string }) => i.path === field), `${from} ${add}: ${JSON.stringify(res.body.error.details)}`);
    }
  });

  it('when the published years are read, then 2025 and 2026 are there as their notices give them, and an unpublished year answers 404', async () => {
    const list = await t.http.get('/api/v1/calendar/years').set(bearer(bidder.token)).expect(200);
    assert.deepEqual(list.body.map((y: { year: number }) => y.year), [2025, 2026]);
    const y2026 = await t.http.get('/api/v1/calendar/years/2026').set(bearer(bidder.token)).expect(200);
    assert.equal(y2026.body.notice, '国务院办公厅关于2026年部分节假日安排的通知');
    assert.deepEqual(y2026.body.holidays.map((h: { from: string; to: string }) => `${h.from}/${h.to}`), [
      '2026-01-01/2026-01-03', '2026-02-15/2026-02-23', '2026-04-04/2026-04-06', '2026-05-01/2026-05-05',
      '2026-06-19/2026-06-21', '2026-09-25/2026-09-27', '2026-10-01/2026-10-07',
    ]);
    assert.equal(y2026.body.holidays[1].name, '春节');
    assert.deepEqual(y2026.body.workdays.map((w: { date: string }) => w.date), ['2026-01-04', '2026-02-14', '2026-02-28', '2026-05-09', '2026-09-20', '2026-10-10']);
    assert.equal(y2026.body.createdBy, null, 'seeded with the platform');
    const y2025 = await t.http.get('/api/v1/calendar/years/2025').set(bearer(bidder.token)).expect(200);
    assert.deepEqual(y2025.body.holidays.at(-1), { from: '2025-10-01', to: '2025-10-08', name: '国庆节、中秋节' });
    assert.equal((await t.http.get('/api/v1/calendar/years/2031').set(bearer(bidder.token)).expect(404)).body.error.code, 'NOT_FOUND');
  });

  it('when a count needs 2027 and no 2027 schedule is published, then it is refused naming 2027, with one high alert however often it is asked', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await workingDays(bidder.token, '2026-12-30', 2).expect(409);
      assert.equal(res.body.error.code, 'CALENDAR_YEAR_MISSING');
      assert.equal(res.body.error.details.year, 2027);
      assert.match(res.body.error.message, /2027年节假日安排/);
      assert.equal(res.body.error.details.basis, 'domain rule: working days / GP87 38');
    }
    // the platform asking for itself (a refund's due date) is refused too, and alerts no more
    await assert.rejects(t.ctx.services.calendar.dueDate(new Date('2026-12-30T02:00:00Z'), 2), (err: unknown) => CalendarYearMissing.is(err) && err.details.year === 2027);
    const alerts = await missingAlerts();
    assert.equal(alerts.length, 1, 'one standing alert for the missing year');
    const [alert] = alerts;
    assert.equal(alert.severity, 'high');
    assert.equal(alert.status, 'open');
    assert.equal(alert.basis, 'domain rule: working days / GP87 38');
    assert.equal(alert.tender_id, null);
    assert.equal(alert.subject_org_id, null);
    const evidence = typeof alert.evidence === 'string' ? JSON.parse(alert.evidence) : alert.evidence;
    assert.deepEqual(evidence.fields, { year: 2027 });
    assert.equal(evidence.auditSeqs.length, 1);
    const [event] = await t.ctx.db('audit_events').where({ seq: evidence.auditSeqs[0] });
    assert.equal(event.action, 'calendar.year-missing');
    assert.equal(event.object_id, '2027');
    assert.equal(event.actor_org_id, bidder.orgId, 'the first asker is on the record');
    assert.deepEqual(event.payload.asked, { from: '2026-12-30', add: 2 });
    assert.equal(Number((await t.ctx.db('audit_events').where({ action: 'calendar.year-missing' }).count({ n: '*' }))[0].n), 1);
    // regulators see it among the alerts
    const listed = await t.http.get('/api/v1/alerts?rule=calendar-year-missing').set(bearer(regulator.token)).expect(200);
    assert.equal(listed.body.length, 1);
    assert.equal(listed.body[0].evidence.fields.year, 2027);
  });

  it('when the calendar is asked inside a caller\'s transaction, then it reads through it (no second connection) and its refusal can be caught there', async () => {
    const calendar = t.ctx.services.calendar;
    const outcome = await t.ctx.db.transaction(async (trx) => {
      const due = await calendar.dueDate(new Date('2026-02-13T16:30:00Z'), 2, { db: trx });
      const refused = await calendar.addWorkingDays('2026-12-30', 2, { db: trx }).catch((err: unknown) => err);
      return { due, refused };
    });
    // 16:30Z on 2/13 is already Saturday 2/14 in Shanghai: counting starts the next day
    assert.deepEqual(outcome.due, { date: '2026-02-25', endsAt: new Date('2026-02-25T16:00:00.000Z') });
    assert.ok(CalendarYearMissing.is(outcome.refused));
    assert.equal((await missingAlerts()).length, 1, 'still one alert');
  });

  it('when a non-operator tries to enter a year, then 403 and nothing is stored', async () => {
    for (const member of [bidder, regulator]) {
      const res = await t.http.post('/api/v1/calendar/years').set(bearer(member.token)).send(notice2027).expect(403);
      assert.equal(res.body.error.code, 'FORBIDDEN');
    }
    assert.deepEqual(await stored2027(), { years: 0, days: 0, events: 0 });
  });

  it('when an operator enters a year that does not hold together, then 400 or 422 with the reason, and nothing is stored', async () => {
    const post = (body: object) => t.http.post('/api/v1/calendar/years').set(bearer(op)).send(body);
    const outside = await post({ ...notice2027, holidays: [...notice2027.holidays, { from: '2026-12-31', to: '2026-12-31', name: '元旦' }] }).expect(422);
    assert.equal(outside.body.error.code, 'CALENDAR_SCHEDULE_INVALID');
    assert.deepEqual(outside.body.error.details.dates, ['2026-12-31']);
    const both = await post({ ...notice2027, workdays: [{ date: '2027-02-13', name: '调休上班' }] }).expect(422);
    assert.equal(both.body.error.code, 'CALENDAR_SCHEDULE_INVALID');
    assert.match(both.body.error.message, /既是节假日又是调休上班日/);
    assert.deepEqual(both.body.error.details.dates, ['2027-02-13']);
    const malformed = await post({ ...notice2027, workdays: [{ date: '2027-02-30', name: '调休上班' }] }).expect(400);
    assert.equal(malformed.body.error.code, 'VALIDATION_FAILED');
    assert.ok(malformed.body.error.details.issues.some((i: { path: string }) => i.path === 'body.workdays.0.date'));
    assert.equal((await post({ ...notice2027, year: 1999 }).expect(400)).body.error.code, 'VALIDATION_FAILED');
    assert.deepEqual(await stored2027(), { years: 0, days: 0, events: 0 });
    await workingDays(bidder.token, '2026-12-30', 2).expect(409);
  });

  it('when an operator enters 2027, then it is audited and the refused question answers; entering it again needs replace, which takes effect at once', async () => {
    const res = await t.http.post('/api/v1/calendar/years').set(bearer(op)).send(notice2027).expect(201);
    assert.equal(res.body.year, 2027);
    assert.deepEqual(res.body.holidays, notice2027.holidays);
    assert.deepEqual(res.body.workdays, notice2027.workdays);
    assert.ok(res.body.createdBy);
    const [published] = await t.ctx.db('audit_events').where({ action: 'calendar.year.publish', request_id: res.headers['x-request-id'] });
    assert.equal(published.object_id, '2027');
    assert.deepEqual(await stored2027(), { years: 1, days: 13, events: 1 });

    // 12/31 works; 1/1–1/3 元旦; Monday 1/4
    const answered = await workingDays(bidder.token, '2026-12-30', 2).expect(200);
    assert.deepEqual(answered.body, { from: '2026-12-30', add: 2, date: '2027-01-04', weekday: 1, weekdayName: '星期一' });
    assert.equal((await workingDays(bidder.token, '2027-02-05', 1).expect(200)).body.date, '2027-02-15', 'after 春节');
    assert.equal((await workingDays(bidder.token, '2027-02-19', 1).expect(200)).body.date, '2027-02-20', 'the make-up Saturday');

    const again = await t.http.post('/api/v1/calendar/years').set(bearer(op)).send(notice2027).expect(409);
    assert.equal(again.body.error.code, 'CALENDAR_YEAR_EXISTS');

    // a corrected notice: 元旦 runs to Monday 1/4
    const corrected = { ...notice2027, notice: `${notice2027.notice}（更正）`, holidays: [{ from: '2027-01-01', to: '2027-01-04', name: '元旦' }, notice2027.holidays[1]], replace: true };
    const replaced = await t.http.post('/api/v1/calendar/years').set(bearer(op)).send(corrected).expect(201);
    assert.equal(replaced.body.holidays[0].to, '2027-01-04');
    assert.equal((await t.ctx.db('audit_events').where({ action: 'calendar.year.replace', request_id: replaced.headers['x-request-id'] })).length, 1);
    assert.equal((await workingDays(bidder.token, '2026-12-30', 2).expect(200)).body.date, '2027-01-05', 'the replaced year, not the cached one');
    assert.deepEqual(await stored2027(), { years: 1, days: 14, events: 2 });
    assert.equal((await missingAlerts()).length, 1);
  });
});
