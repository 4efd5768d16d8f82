/**
 * The regulators' review of alerts through the app: alerts raised the real way (custodians reaching for their key
 * shares before the deadline) and through the alerts service, their due times on the China working-day calendar,
 * the list's filters and paging, an alert's page with its evidence and the events around it, the disposition path
 * with every step on the audit chain, the refusals, exports (CSV for Excel, JSON) and the report PDF.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, T0, type TestApp } from '../support/app';
import { bearer, createCustodianMembers, createMember, operatorToken, refresh, tenderBody, uploadDocument, type Member } from '../support/factories';
import { systemContext } from '../../src/shared/access';
import type { AlertSeverity } from '../../src/monitoring/alerts.repository';

const HOUR = 3_600_000;

function pdfText(pdf: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-alert-report-'));
  try {
    fs.writeFileSync(path.join(dir, 'r.pdf'), pdf);
    return execFileSync('pdftotext', ['-layout', path.join(dir, 'r.pdf'), '-'], { encoding: 'utf8' });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** RFC 4180 reader for the test: quoted cells with doubled quotes and line breaks inside. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += c;
  }
  if (cell || row.length) rows.push([...row, cell]);
  return rows;
}

const binary = (res: import('superagent').Response, cb: (err: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

describe('alerts: the regulators\' review — due times, filters, the alert\'s page, dispositions, exports, report', function () {
  let t: TestApp;
  let regulator: Member; // a custodian: its organisation is the subject of its own early attempt
  let otherRegulator: Member;
  let custodianOperator: Member;
  let agency: Member;
  let bidder: Member;
  let tender: { id: string; code: string; name: string };
  let own: string; // the critical alert about `regulator`'s organisation
  let staff: string; // the critical alert about the trading centre
  let warning: string; // raised through the service, about a bidder, with a title that looks like a formula
  let info: string; // no tender, no subject

  const get = (url: string, m: Member | string = otherRegulator) => t.http.get(`/api/v1${url}`).set(bearer(typeof m === 'string' ? m : m.token));
  const dispose = (id: string, body: Record<string, unknown>, m: Member | string = otherRegulator) =>
    t.http.post(`/api/v1/alerts/${id}/dispositions`).set(bearer(typeof m === 'string' ? m : m.token)).send(body);
  const at = async (iso: string) => {
    t.clock.freeze(new Date(iso));
    await refresh(t, regulator, otherRegulator, custodianOperator, agency, bidder);
  };

  /** An alert raised the way rules and services raise them: an audit event and the alert in one transaction. */
  async function raise(severity: AlertSeverity, rule: string, title: string, opts: { tenderId?: string | null; subjectOrgId?: string | null } = {}): Promise<string> {
    return t.ctx.db.transaction(async (trx) => {
      const event = await t.ctx.services.audit.append(trx, systemContext('test'), { action: `test.${rule}`, tenderId: opts.tenderId ?? null, payload: { rule } });
      const alert = await t.ctx.services.alerts.raise(trx, {
        rule,
        severity,
        title,
        basis: 'TLR 40',
        tenderId: opts.tenderId ?? null,
        subjectOrgId: opts.subjectOrgId ?? null,
        evidence: { auditSeqs: [event.seq], fields: { subjectOrgIds: opts.subjectOrgId ? [opts.subjectOrgId] : [] } },
      });
      return alert.id;
    });
  }

  before(async function () {
    t = await createTestApp('alert-review');
    ({ regulator, operator: custodianOperator } = await createCustodianMembers(t));
    otherRegulator = await createMember(t, 'regulator');
    agency = await createMember(t, 'agency');
    bidder = await createMember(t, 'bidder');
    const tenderer = await createMember(t, 'tenderer');
    const created = (await t.http.post('/api/v1/tenders').set(bearer(agency.token)).send(tenderBody(tenderer.orgId, t.clock.now())).expect(201)).body;
    await uploadDocument(t, agency.token, created.id);
    await t.http.post(`/api/v1/tenders/${created.id}/publish`).set(bearer(agency.token)).expect(200);
    tender = { id: created.id, code: created.code, name: created.name };
  });
  after(() => t?.close());

  it('when custodians reach for their key shares before the deadline, then each raises a critical alert due by the end of the next working day', async function () {
    for (const m of [regulator, custodianOperator]) {
      const res = await get(`/tenders/${tender.id}/opening-key/share`, m).expect(409);
      assert.equal(res.body.error.code, 'CUSTODY_BEFORE_DEADLINE');
    }
    const list = (await get(`/alerts?tenderId=${tender.id}&rule=early-key-access`).expect(200)).body;
    assert.equal(list.length, 2);
    own = list.find((a: { subjectOrgId: string }) => a.subjectOrgId === regulator.orgId).id;
    staff = list.find((a: { subjectOrgId: string }) => a.subjectOrgId === custodianOperator.orgId).id;
    for (const a of list) {
      assert.equal(a.severity, 'critical');
      assert.equal(a.status, 'open');
      // raised Monday 2026-11-23 09:00 (Shanghai): due by 24:00 on Tuesday, the first day not counted
      assert.equal(a.dueAt, '2026-11-24T16:00:00.000Z');
      assert.equal(a.dueEstimated, false);
      assert.equal(a.overdue, false);
      assert.equal(a.handledAt, null);
      assert.equal(a.tenderCode, tender.code);
    }
    warning = await raise('warning', 'test-same-address', '=HYPERLINK("http://evil.example","点击查看"), 两家投标人地址相同', { tenderId: tender.id, subjectOrgId: bidder.orgId });
    t.clock.freeze(new Date(T0.getTime() + HOUR));
    info = await raise('info', 'test-info', '+提示：系统自检');
    t.clock.freeze(T0);
  });

  it('when alerts are listed with filters, then each filter narrows the list, paging walks it once and the counts follow the filter', async function () {
    const ids = async (q: string) => (await get(`/alerts?${q}`).expect(200)).body.map((a: { id: string }) => a.id).sort();
    assert.deepEqual(await ids(`tenderId=${tender.id}`), [own, staff, warning].sort());
    assert.deepEqual(await ids('severity=warning'), [warning]);
    assert.deepEqual(await ids(`subjectOrgId=${bidder.orgId}`), [warning]);
    assert.deepEqual(await ids('rule=test-info'), [info]);
    assert.deepEqual(await ids(`raisedFrom=${encodeURIComponent(new Date(T0.getTime() + HOUR).toISOString())}`), [info]);
    assert.deepEqual(await ids('raisedFrom=2026-11-23&raisedTo=2026-11-23'), [own, staff, warning, info].sort());
    assert.deepEqual(await ids('raisedTo=2026-11-22'), []);
    assert.deepEqual(await ids('open=true&severity=critical'), [own, staff].sort());
    assert.deepEqual(await ids('open=false'), []);
    assert.deepEqual(await ids('overdue=true'), []);
    // newest first; a page of one names the next
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const res = await get(`/alerts?raisedFrom=2026-11-23&limit=1${cursor ? `&${cursor}` : ''}`).expect(200);
      seen.push(...res.body.map((a: { id: string }) => a.id));
      if (!res.headers['x-next-cursor']) break;
      cursor = res.headers['x-next-cursor'];
    }
    assert.equal(seen[0], info, 'the newest first');
    assert.deepEqual([...seen].sort(), [own, staff, warning, info].sort(), 'each alert once');
    assert.deepEqual(await ids('raisedFrom=2026-11-23&limit=2&offset=2'), seen.slice(2).sort());
    const summary = (await get(`/alerts/summary?tenderId=${tender.id}&status=confirmed`).expect(200)).body;
    assert.deepEqual(summary.byStatus, { open: 3, acknowledged: 0, investigating: 0, confirmed: 0, dismissed: 0 });
    assert.equal(summary.total, 3);
    assert.equal(summary.unhandled, 3);
    assert.equal(summary.overdue, 0);
    const bad = await get('/alerts?overdue=yes').expect(400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    assert.equal((await get('/alerts', bidder).expect(403)).body.error.code, 'FORBIDDEN');
  });

  it('when an alert\'s page is read, then it shows its evidence in full, the tender\'s events around it and who is concerned', async function () {
    const page = (await get(`/alerts/${own}?around=3`).expect(200)).body;
    assert.equal(page.id, own);
    assert.deepEqual(page.tender, { id: tender.id, code: tender.code, name: tender.name });
    assert.equal(page.subjectOrg.id, regulator.orgId);
    assert.match(page.subjectOrg.name, /住房和城乡建设局/);
    assert.equal(page.evidenceEvents.length, 1);
    const evidence = page.evidenceEvents[0];
    assert.equal(evidence.seq, page.evidence.auditSeqs[0]);
    assert.equal(evidence.action, 'custody.early-access');
    assert.equal(evidence.actorOrgId, regulator.orgId);
    assert.equal(evidence.payload.attempted, 'fetch-share');
    assert.match(evidence.hash, /^[0-9a-f]{64}$/);
    assert.equal(page.context.scope, 'tender');
    assert.equal(page.context.around, 3);
    const around = page.context.events as Array<{ seq: number; tenderId: string; action: string; nearEvidenceSeq: number }>;
    assert.ok(around.length >= 3 && around.length <= 6, `at most 3 each way, got ${around.length}`);
    assert.ok(around.every((e) => e.tenderId === tender.id && e.seq !== evidence.seq && e.nearEvidenceSeq === evidence.seq));
    assert.ok(around.some((e) => e.seq < evidence.seq) && around.some((e) => e.seq > evidence.seq), 'events before and after');
    assert.ok(around.some((e) => e.action === 'custody.early-access' || e.action.startsWith('test.')), 'the other attempt is next to it');
    assert.deepEqual(around.map((e) => e.seq), [...around.map((e) => e.seq)].sort((a, b) => a - b));
    assert.equal(page.organisations[regulator.orgId].type, 'regulator');
    assert.deepEqual(page.dispositions, []);
    assert.deepEqual(page.nextStatuses, ['acknowledged'], 'an open alert is acknowledged first');
    // without a tender, the whole chain around it
    const lone = (await get(`/alerts/${info}?around=2`, custodianOperator).expect(200)).body;
    assert.equal(lone.tender, null);
    assert.equal(lone.context.scope, 'chain');
    assert.ok(lone.context.events.length >= 2);
    assert.equal((await get('/alerts/00000000-0000-4000-8000-00000000abcd').expect(404)).body.error.code, 'NOT_FOUND');
  });

  it('when a disposition is refused — wrong role, own organisation, no note, a skipped step, an unknown alert — then nothing changes', async function () {
    const note = '已调取该监督人员登录记录，核实情况。';
    const cases: Array<[Member | string, string, Record<string, unknown>, number, string]> = [
      [await operatorToken(t), own, { status: 'acknowledged', note }, 403, 'FORBIDDEN'],
      [custodianOperator, own, { status: 'acknowledged', note }, 403, 'FORBIDDEN'],
      [bidder, own, { status: 'acknowledged', note }, 403, 'FORBIDDEN'],
      [regulator, own, { status: 'acknowledged', note }, 403, 'ALERT_OWN_ORGANISATION'],
      [otherRegulator, own, { status: 'acknowledged' }, 422, 'ALERT_NOTE_REQUIRED'],
      [otherRegulator, own, { status: 'acknowledged', note: ' \n\t ' }, 422, 'ALERT_NOTE_REQUIRED'],
      [otherRegulator, own, { status: 'acknowledged', note: '查'.repeat(2001) }, 422, 'ALERT_NOTE_TOO_LONG'],
      [otherRegulator, own, { status: 'dismissed', note }, 409, 'ALERT_TRANSITION_INVALID'],
      [otherRegulator, own, { status: 'confirmed', note }, 409, 'ALERT_TRANSITION_INVALID'],
      [otherRegulator, own, { status: 'open', note }, 400, 'VALIDATION_FAILED'],
      [otherRegulator, own, { status: 'acknowledged', note, from: 'investigating' }, 409, 'ALERT_STATUS_CHANGED'],
      [otherRegulator, '00000000-0000-4000-8000-00000000abcd', { status: 'acknowledged', note }, 404, 'NOT_FOUND'],
    ];
    const before = await t.ctx.db('audit_events').count({ n: '*' });
    for (const [who, id, body, status, code] of cases) {
      const res = await dispose(id, body, who);
      assert.equal(res.status, status, `${code}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, code);
    }
    const owned = await dispose(own, { status: 'acknowledged', note }, regulator);
    assert.match(owned.body.error.details.basis, /EB/);
    assert.deepEqual(await t.ctx.db('audit_events').count({ n: '*' }), before);
    assert.equal((await t.ctx.db('alert_dispositions')).length, 0);
    assert.equal((await t.ctx.db('alerts').where({ id: own }).first()).status, 'open');
  });

  it('when another regulator acknowledges, investigates and confirms, then each step is a disposition and an event on the chain, and the alert is handled on time', async function () {
    await at(new Date(T0.getTime() + HOUR).toISOString());
    const steps = [
      ['acknowledged', '已签收，调取该单位监督人员的登录记录。'],
      ['investigating', '登录记录显示截止前三次尝试取得密钥分片，约谈当事人。'],
      ['confirmed', '情况属实：当事人违反保管规程，已移交纪检部门处理（EB 27）。'],
    ] as const;
    const seqs: number[] = [];
    let from = 'open';
    for (const [status, note] of steps) {
      const res = await dispose(own, { status, note, from }).expect(201);
      assert.equal(res.body.alert.status, status);
      assert.equal(res.body.disposition.fromStatus, from);
      assert.equal(res.body.disposition.toStatus, status);
      assert.equal(res.body.disposition.userId, otherRegulator.userId);
      seqs.push(res.body.disposition.auditSeq);
      from = status;
    }
    const events = (await get(`/audit/events?action=alert.disposed&tenderId=${tender.id}`).expect(200)).body.reverse();
    assert.deepEqual(events.map((e: { seq: number }) => e.seq), seqs);
    assert.deepEqual(events.map((e: { payload: { from: string; to: string } }) => [e.payload.from, e.payload.to]), [['open', 'acknowledged'], ['acknowledged', 'investigating'], ['investigating', 'confirmed']]);
    assert.ok(events.every((e: { actorOrgId: string; objectId: string; payload: { alertId: string; note: string } }, i: number) =>
      e.actorOrgId === otherRegulator.orgId && e.objectId === own && e.payload.alertId === own && e.payload.note === steps[i]![1]));
    assert.equal(events[2].payload.handledOnTime, true);
    const page = (await get(`/alerts/${own}`).expect(200)).body;
    assert.equal(page.status, 'confirmed');
    assert.equal(page.handledAt, new Date(T0.getTime() + HOUR).toISOString());
    assert.equal(page.handledOnTime, true);
    assert.equal(page.overdue, false);
    assert.deepEqual(page.dispositions.map((d: { toStatus: string; note: string; auditSeq: number }) => [d.toStatus, d.note, d.auditSeq]), steps.map(([s, n], i) => [s, n, seqs[i]]));
    assert.match(page.dispositions[0].orgName, /住房和城乡建设局/);
    assert.ok(page.organisations[otherRegulator.orgId]);
    // a handled alert stays handled
    assert.equal((await dispose(own, { status: 'investigating', note: '重新调查' }).expect(409)).body.error.code, 'ALERT_TRANSITION_INVALID');
    // the record of supervision is not rewritten
    await assert.rejects(async () => {
      await t.ctx.db('alert_dispositions').where({ alert_id: own }).update({ note: '改写' });
    }, /append-only/);
    assert.equal((await get('/audit/verify').expect(200)).body.ok, true);
  });

  it('when two regulators acknowledge the same alert at once, then one step is taken and the other answers 409', async function () {
    const third = await createMember(t, 'regulator');
    const body = { status: 'acknowledged', note: '签收', from: 'open' };
    const answers = await Promise.all([dispose(staff, body), dispose(staff, body, third)]);
    assert.deepEqual(answers.map((r) => r.status).sort(), [201, 409]);
    assert.equal(answers.find((r) => r.status === 409)!.body.error.code, 'ALERT_STATUS_CHANGED');
    assert.equal((await t.ctx.db('alert_dispositions').where({ alert_id: staff })).length, 1);
    assert.equal((await t.ctx.db('audit_events').where({ action: 'alert.disposed', object_id: staff })).length, 1);
    // without `from`, the second sees the step already taken
    const again = await dispose(staff, { status: 'acknowledged', note: '签收' }, third).expect(409);
    assert.equal(again.body.error.code, 'ALERT_TRANSITION_INVALID');
  });

  it('when the due time passes, then an unhandled alert is overdue (a period ends at 24:00 of its last working day) and one handled after it was late', async function () {
    await at('2026-11-24T15:59:59.999Z'); // Tuesday 23:59:59.999 in Shanghai
    assert.equal((await get(`/alerts/${staff}`).expect(200)).body.overdue, false);
    await at('2026-11-24T16:00:00.000Z');
    const staffView = (await get(`/alerts/${staff}`).expect(200)).body;
    assert.equal(staffView.overdue, true, 'acknowledged is not handled');
    assert.deepEqual((await get('/alerts?overdue=true').expect(200)).body.map((a: { id: string }) => a.id), [staff]);
    assert.equal((await get('/alerts/summary?raisedFrom=2026-11-23').expect(200)).body.overdue, 1);
    // the warning: 5 working days from Monday 11-23 → Monday 11-30, by 24:00
    assert.equal((await get(`/alerts/${warning}`).expect(200)).body.dueAt, '2026-11-30T16:00:00.000Z');
    await at('2026-12-01T02:00:00.000Z');
    await dispose(warning, { status: 'acknowledged', note: '签收' }).expect(201);
    const late = (await dispose(warning, { status: 'dismissed', note: '经核实为同一写字楼不同楼层，排除。' }).expect(201)).body.alert;
    assert.equal(late.handledOnTime, false);
    assert.equal(late.overdue, false);
  });

  it('when alerts are raised around holidays, past the published years or by code that sets no due time, then their due times follow the calendar', async function () {
    // Wednesday 2026-09-30: 10-01…10-07 are the National Day holiday, Saturday 10-10 a make-up working day
    t.clock.freeze(new Date('2026-09-30T02:00:00Z'));
    const holiday = await raise('high', 'test-holiday', '国庆节前的预警');
    // Wednesday 2026-12-30: 2027 is not published, so the 5 days are counted as calendar days and marked estimated
    t.clock.freeze(new Date('2026-12-30T02:00:00Z'));
    const unpublished = await raise('warning', 'test-unpublished', '跨年预警');
    // an alert inserted by code of its own (the monitoring rules do) gets its due time when alerts are next read
    const [{ id: direct }] = await t.ctx.db('alerts')
      .insert({ rule: 'test-direct', severity: 'critical', title: '直接写入的预警', basis: 'TLR 40', evidence: JSON.stringify({ auditSeqs: [] }), raised_at: new Date('2026-11-27T02:00:00Z') })
      .returning('id');
    await at('2026-12-01T02:00:00.000Z');
    const due = async (id: string) => (await get(`/alerts/${id}`).expect(200)).body;
    assert.equal((await due(holiday)).dueAt, '2026-10-10T16:00:00.000Z');
    const estimated = await due(unpublished);
    assert.equal(estimated.dueAt, '2027-01-04T16:00:00.000Z');
    assert.equal(estimated.dueEstimated, true);
    const listed = (await get('/alerts?rule=test-direct').expect(200)).body[0];
    // Friday 11-27 + 1 working day = Monday 11-30
    assert.equal(listed.id, direct);
    assert.equal(listed.dueAt, '2026-11-30T16:00:00.000Z');
    assert.equal(listed.overdue, true);
  });

  it('when alerts are exported as CSV, then Excel reads the Chinese (BOM), every cell is quoted and a formula is neutralised', async function () {
    const res = await get(`/alerts/export.csv?tenderId=${tender.id}`, custodianOperator).buffer(true).parse(binary as never).expect(200);
    assert.match(res.headers['content-type'], /^text\/csv; charset=utf-8/);
    assert.match(res.headers['content-disposition'], /attachment; filename="?alerts-\d{8}T\d{6}\.csv"?$/);
    const bytes = res.body as Buffer;
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const rows = parseCsv(bytes.toString('utf8').slice(1));
    assert.equal(rows[0]![0], '预警编号 (id)');
    assert.equal(rows.length, 4, 'the header and three alerts');
    const col = (name: string) => rows[0]!.findIndex((h) => h.startsWith(name));
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    const w = byId.get(warning)!;
    assert.equal(w[col('标题')], '\'=HYPERLINK("http://evil.example","点击查看"), 两家投标人地址相同');
    assert.match(bytes.toString('utf8'), /"'=HYPERLINK\(""http:\/\/evil\.example"",""点击查看""\), 两家投标人地址相同"/);
    assert.equal(w[col('预警时间')], '2026-11-23 09:00:00');
    assert.equal(w[col('处理期限')], '2026-11-30 24:00');
    assert.equal(w[col('是否按期处理')], '否');
    assert.equal(w[col('状态')], '已排除 (dismissed)');
    assert.equal(w[col('项目编号')], tender.code);
    const o = byId.get(own)!;
    assert.equal(o[col('是否按期处理')], '是');
    const notes = o[col('处置记录')]!.split('\n');
    assert.equal(notes.length, 3);
    assert.match(notes[2]!, /^2026-11-23 10:00:00 已确认属实 .+（测试住房和城乡建设局\d+）：情况属实/);
    // no cell of the export starts like a formula
    for (const r of rows.slice(1)) for (const c of r) assert.doesNotMatch(c, /^[=+\-@]/);
    const infoCsv = parseCsv((await get('/alerts/export.csv?rule=test-info').buffer(true).parse(binary as never).expect(200)).body.toString('utf8').slice(1));
    assert.equal(infoCsv[1]![col('标题')], '\'+提示：系统自检');
    assert.equal((await get('/alerts/export.csv', bidder).expect(403)).body.error.code, 'FORBIDDEN');
  });

  it('when alerts are exported as JSON, then the filter, the count and each alert with its dispositions are there', async function () {
    const res = await get(`/alerts/export.json?tenderId=${tender.id}&severity=critical`).buffer(true).parse(binary as never).expect(200);
    assert.match(res.headers['content-disposition'], /attachment; filename="?alerts-\d{8}T\d{6}\.json"?$/);
    const doc = JSON.parse((res.body as Buffer).toString('utf8'));
    assert.equal(doc.count, 2);
    assert.equal(doc.timeZone, 'Asia/Shanghai');
    assert.deepEqual(doc.filter, { tenderId: tender.id, severity: 'critical' });
    assert.deepEqual(doc.alerts.map((a: { id: string }) => a.id).sort(), [own, staff].sort());
    const o = doc.alerts.find((a: { id: string }) => a.id === own);
    assert.equal(o.dispositions.length, 3);
    assert.equal(o.handledOnTime, true);
    assert.equal(doc.alerts.find((a: { id: string }) => a.id === staff).overdue, true);
  });

  it('when the report is asked for November, then it counts by rule, severity and tender, on time against late, and lists the overdue', async function () {
    const r = (await get('/alerts/report?from=2026-11-01&to=2026-11-30').expect(200)).body;
    // own (confirmed on time), staff (acknowledged, overdue), warning (dismissed late), info (open), direct (open, overdue)
    assert.deepEqual(r.totals, { raised: 5, handled: 2, handledOnTime: 1, handledLate: 1, confirmed: 1, dismissed: 1, unhandled: 3, overdue: 2 });
    const early = r.byRule.find((x: { rule: string }) => x.rule === 'early-key-access');
    assert.deepEqual(early, { rule: 'early-key-access', raised: 2, handled: 1, handledOnTime: 1, handledLate: 0, confirmed: 1, dismissed: 0, unhandled: 1, overdue: 1 });
    const byTender = r.byTender.find((x: { tenderId: string }) => x.tenderId === tender.id);
    assert.equal(byTender.raised, 3);
    assert.equal(byTender.handledLate, 1);
    assert.equal(r.byTender.at(-1).tenderId, null);
    assert.deepEqual(r.overdue.map((a: { id: string }) => a.id).sort(), [staff, r.overdue.find((a: { rule: string }) => a.rule === 'test-direct').id].sort());

    const res = await get('/alerts/report.pdf?from=2026-11-01&to=2026-11-30', custodianOperator).buffer(true).parse(binary as never).expect(200);
    assert.equal(res.headers['content-type'], 'application/pdf');
    const text = pdfText(res.body as Buffer);
    assert.match(text, /预警处置报告/);
    assert.match(text, /2026-11-01 至 2026-11-30/);
    const line = (label: string) => text.split('\n').find((l) => l.trimStart().startsWith(label))?.trim().split(/\s+/);
    // 规则, 预警数, 已处理, 按期处理, 逾期处理, 未处理, 已逾期未处理, 确认属实, 排除
    assert.deepEqual(line('early-key-access'), ['early-key-access', '2', '1', '1', '0', '1', '1', '1', '0']);
    assert.deepEqual(line('test-same-address'), ['test-same-address', '1', '1', '0', '1', '0', '0', '0', '1']);
    assert.match(text, new RegExp(tender.code));
    assert.match(text, /逾期未处理的预警/);
    assert.match(text, /直接写入的预警/);
    assert.match(text, /投标截止前试图取得或释放开标密钥分片/);

    const refused = await get('/alerts/report.pdf?from=2026-12-01&to=2026-11-01').expect(400);
    assert.match(refused.headers['content-type'], /application\/json/);
    assert.equal(refused.body.error.code, 'VALIDATION_FAILED');
    assert.equal((await get('/alerts/report.pdf?from=2026-11-01&to=2026-11-30', bidder).expect(403)).body.error.code, 'FORBIDDEN');
  });
});
