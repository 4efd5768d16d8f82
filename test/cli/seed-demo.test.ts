import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkCertificate } from '../../crypto/pki';
import { runAuditVerify } from '../../src/cli/audit-verify';
import { runSeed, SEED_MARKER_CREDIT_CODE, SEED_OPERATOR_USER, SEED_ORGANISATIONS, SEED_TENDERS, type SeedSummary } from '../../src/cli/seed';
import { loadConfig, type Config } from '../../src/config';
import { createDb } from '../../src/db';
import { createBlobStore } from '../../src/shared/blobs';
import { runScript } from '../support/run-script';

const TABLES = ['organisations', 'users', 'certificates', 'tenders', 'sections', 'tender_documents', 'tender_custodians', 'outbox', 'audit_events'];

describe('cli: seed and demo', () => {
  describe('npm run seed, twice, into an embedded data dir', () => {
    let dataDir: string;
    let config: Config;
    let first: SeedSummary;
    let second: SeedSummary;
    let firstOutput: string[];
    let countsAfterFirst: Record<string, number>;
    let countsAfterSecond: Record<string, number>;

    async function counts(): Promise<Record<string, number>> {
      const db = createDb(config);
      try {
        const result: Record<string, number> = {};
        for (const table of TABLES) result[table] = Number((await db(table).count({ n: '*' }).first())!.n);
        return result;
      } finally {
        await db.destroy();
      }
    }

    before(async function () {
      this.timeout(120_000);
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'gz-seed-test-'));
      config = loadConfig({
        NODE_ENV: 'test', LOG_LEVEL: 'silent', DATA_DIR: dataDir, DATABASE_URL: '', REDIS_URL: '', BLOB_DIR: '', CLOCK: 'system', ADMIN_PASSWORD: '',
      });
      firstOutput = [];
      first = await runSeed(config, (line) => firstOutput.push(line));
      countsAfterFirst = await counts();
      second = await runSeed(config, () => undefined);
      countsAfterSecond = await counts();
    });
    after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

    it('when run twice, then the second run adds nothing: every count, the audit chain included, is stable', () => {
      assert.deepEqual(countsAfterSecond, countsAfterFirst);
      assert.equal(first.alreadySeeded, false);
      assert.equal(second.alreadySeeded, true);
      assert.ok(second.organisations.every((o) => !o.created));
      assert.ok(second.organisations.every((o) => o.user === null || o.user.status === 'existing'));
      assert.ok(second.tenders.every((t) => !t.created));
    });

    it('when seeded, then the trading centre, an agency, a tenderer, a regulator and five bidders exist, each with a certificate user', async () => {
      assert.equal(countsAfterFirst.organisations, 9);
      const byType = (type: string) => first.organisations.filter((o) => o.type === type);
      assert.equal(byType('operator').length, 1);
      assert.equal(byType('agency').length, 1);
      assert.equal(byType('tenderer').length, 1);
      assert.equal(byType('regulator').length, 1);
      assert.equal(byType('bidder').length, 5);
      assert.equal(byType('agency')[0].creditCode, SEED_MARKER_CREDIT_CODE);
      for (const spec of SEED_ORGANISATIONS) {
        assert.ok(first.organisations.some((o) => o.name === spec.name && o.creditCode === spec.creditCode), spec.name);
      }
      assert.equal(countsAfterFirst.users, 10, 'admin, the trading centre\'s key custodian, and one user per seeded organisation');

      const db = createDb(config);
      try {
        const userCerts = await db('certificates').whereIn('usage', ['signing', 'encryption']).count({ n: '*' }).first();
        assert.equal(Number(userCerts!.n), 18, 'a signing and an encryption certificate per certificate user');
        const bidders = await db('organisations').where({ type: 'bidder' });
        for (const b of bidders) {
          assert.ok(b.legal_representative, `${b.name} has a legal representative`);
          assert.match(b.basic_account_no, /^\d{8,32}$/, `${b.name} has a basic account`);
        }
      } finally {
        await db.destroy();
      }
    });

    it('when seeded, then a published construction tender and a draft procurement tender exist, each with its document', async () => {
      assert.equal(countsAfterFirst.tenders, 2);
      assert.equal(countsAfterFirst.sections, 4);
      assert.equal(countsAfterFirst.tender_documents, 2);
      const construction = first.tenders.find((t) => t.type === 'construction')!;
      const procurement = first.tenders.find((t) => t.type === 'procurement')!;
      assert.equal(construction.name, SEED_TENDERS[0].name);
      assert.equal(construction.status, 'published');
      assert.equal(procurement.name, SEED_TENDERS[1].name);
      assert.equal(procurement.status, 'draft');

      const db = createDb(config);
      try {
        for (const t of await db('tenders')) {
          const deadline = new Date(t.bid_deadline).getTime();
          assert.ok(deadline - Date.now() >= 20 * 86_400_000, `${t.name}: deadline at least 20 days away`);
          for (const s of await db('sections').where({ tender_id: t.id })) {
            assert.ok(Number(s.deposit_fen) * 50 <= Number(s.estimated_price_fen), `${s.name}: deposit within 2%`);
          }
          const [doc] = await db('tender_documents').where({ tender_id: t.id });
          assert.equal(doc.content_type, 'application/pdf');
          const pdf = await readBlob(config, doc.blob_key);
          assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
          assert.ok(pdf.length < 200_000, 'a small PDF: only the glyphs used are embedded');
        }
        const published = await db('tenders').where({ status: 'published' }).first();
        assert.ok(published.opening_certificate_serial, 'publication made the opening key and split it among the custodians');
        const seal = await db('outbox').where({ name: 'tenders.seal' });
        assert.equal(seal.length, 1, 'the published tender has its deadline job waiting');
      } finally {
        await db.destroy();
      }
    });

    it('when seeded, then each user has its keys and certificates on disk (0600), certified by the platform CA', () => {
      const caPem = fs.readFileSync(path.join(first.keysDir, 'ca.cert.pem'), 'utf8');
      for (const username of [SEED_OPERATOR_USER.username, ...SEED_ORGANISATIONS.map((o) => o.user.username)]) {
        const dir = path.join(first.keysDir, username);
        for (const usage of ['signing', 'encryption'] as const) {
          for (const file of [`${usage}.key.pem`, `${usage}.cert.pem`]) {
            const stat = fs.statSync(path.join(dir, file));
            assert.equal(stat.mode & 0o777, 0o600, `${username}/${file} is 0600`);
          }
          const check = checkCertificate(fs.readFileSync(path.join(dir, `${usage}.cert.pem`), 'utf8'), caPem, new Date(), usage);
          assert.ok(check.ok, `${username} ${usage} certificate checks against the CA`);
        }
      }
    });

    it('when seeded, then the summary names the admin password source and the audit chain verifies', async () => {
      assert.match(first.adminPasswordHint, /admin/, 'first start: the one-time password announcement is shown');
      assert.match(second.adminPasswordHint, /printed once at first start/);
      assert.ok(firstOutput.some((l) => l.includes('陕西华信招标代理有限公司') && l.includes('huaxin.zhang')), 'summary table');
      const db = createDb(config);
      try {
        const { exitCode } = await runAuditVerify(db, () => undefined);
        assert.equal(exitCode, 0);
      } finally {
        await db.destroy();
      }
    });
  });

  describe('npm run demo', () => {
    it('when run, then it tells the story through the sealing, the deposits, the online opening and the award with its refunds, verifies the chain and exits 0', async function () {
      this.timeout(180_000);
      const started = Date.now();
      const { code, stdout, stderr } = await runScript('src/cli/demo.ts', [], { timeoutMs: 150_000 });
      assert.equal(code, 0, stdout + stderr);
      assert.match(stdout, /DEPOSIT_ABOVE_CAP/);
      assert.match(stdout, /依据 \(basis\)：TLR 26/);
      assert.match(stdout, /原截止时间 \(old deadline\)：\d{4}-\d\d-\d\d \d\d:\d\d/);
      assert.match(stdout, /新截止时间 \(new deadline\)：\d{4}-\d\d-\d\d \d\d:\d\d（北京时间），顺延 5 日/);
      assert.match(stdout, /项目已封存 \(sealed\)/);
      assert.match(stdout, /审计链完整 \(audit chain intact\): \d+ events, head seq \d+, head hash [0-9a-f]{64}/);
      // the online opening: four keys open their bids, a wrong key is the bidder's own fault, 唱标, the record
      assert.match(stdout, /有效投标 4 家，满三家/);
      assert.match(stdout, /27,880,000\.00 +贰仟柒佰捌拾捌万元整/);
      assert.match(stdout, /撤销 \(revoked\)/);
      assert.match(stdout, /主持人答复 \(answer\)/);
      assert.match(stdout, /开标结束 \(opening closed\)：状态 closed/);
      const record = /开标记录表 \(opening record PDF\)：(.+\.pdf)$/m.exec(stdout)?.[1];
      assert.ok(record, 'the record path is printed');
      assert.equal(fs.readFileSync(record).subarray(0, 5).toString(), '%PDF-');
      fs.rmSync(record, { force: true });
      fs.rmSync(`${record}.p7s`, { force: true });
      // deposits through the bank simulator: one short, two from one third party's account; refunds after the award
      assert.match(stdout, /陕西华岳建筑安装有限公司 +\d+ +本单位基本账户 +450,000\.00 +不足/);
      assert.match(stdout, /预警 \(alert, high\)：不同投标人的投标保证金从同一账户转出（视为串通投标）（TLR 40\(6\)）/);
      assert.match(stdout, /开标前代理机构只看到笔数/);
      assert.match(stdout, /陕西汉唐建设集团有限公司 +投标截止后撤销投标，不予退还（TLR 35） +500,000\.00 +— +— +不予退还/);
      assert.match(stdout, /保证金退还时效 \(SLA\)：应退 4 笔，已退 4 笔，2个工作日内 4 笔（100\.0%），逾期 0 笔/);
      // monitoring after decryption: one machine code, a copied proposal, prices in equal steps; a regulator reviews
      const lineOf = (rule: string) => stdout.split('\n').find((l) => new RegExp(`\\s${rule}\\s`).test(l)) ?? '';
      assert.match(lineOf('same-bid-tool'), /机器码/);
      for (const name of ['陕西秦川建设工程有限公司', '陕西华岳建筑安装有限公司']) assert.ok(lineOf('same-bid-tool').includes(name), name);
      assert.match(lineOf('similar-bids'), /高度相似/);
      for (const name of ['陕西秦川建设工程有限公司', '西安长安路桥工程有限公司']) assert.ok(lineOf('similar-bids').includes(name), name);
      assert.match(stdout, /regular-prices +.*4家投标人报价呈等差规律/);
      assert.match(stdout, /deposit-shared-account +不同投标人的投标保证金从同一账户转出/);
      assert.match(stdout, /处置 \(disposition\) → investigating/);
      assert.match(stdout, /演示完成/);
      assert.ok(Date.now() - started < 60_000, 'well under a minute');
    });
  });
});

async function readBlob(config: Config, key: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of await createBlobStore(config).get(key)) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}
