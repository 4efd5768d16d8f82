import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRootCa, parseCertificate } from '../../crypto/pki';
import { signDigest } from '../../crypto/signature';
import type { Db } from '../../src/db';
import { signDocument, verifyDocument } from '../../src/documents/document-signature';
import { renderOpeningRecord, type OpeningRecordData } from '../../src/documents/opening-record';
import { FONT, renderPdf } from '../../src/documents/pdf';
import { drawTable } from '../../src/documents/table';
import { loadPlatformKeys, type PlatformKeys } from '../../src/identity/platform-keys';
import { toChineseCapital } from '../../src/shared/chinese-amount';
import { ControllableClock } from '../../src/shared/clock';
import { formatYuan } from '../../src/shared/money';
import { createMigratedDatabase } from '../support/env';

function tool(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function hasTool(cmd: string): boolean {
  return spawnSync(cmd, ['-v'], { encoding: 'utf8' }).error === undefined;
}

/** pdftotext of the whole document (or one page), to stdout. */
function pdfText(file: string, mode: '-layout' | '-raw', page?: number): string {
  const pages = page === undefined ? [] : ['-f', String(page), '-l', String(page)];
  const r = tool('pdftotext', [mode, '-enc', 'UTF-8', ...pages, file, '-']);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function pageCount(file: string): number {
  const r = tool('pdfinfo', [file]);
  assert.equal(r.status, 0, r.stderr);
  return Number(/^Pages:\s+(\d+)/m.exec(r.stdout)![1]);
}

const squash = (s: string): string => s.replace(/\s+/g, '');

const at = (iso: string): Date => new Date(iso);

/** Exactly 300 characters. */
const LONG_OBJECTION =
  '我公司对第1标段开标过程提出异议：一、投标截止时间前我公司已完成投标文件上传，但平台回执显示的上传完成时间与我公司本地记录相差约两分钟，请平台核实服务器日志并说明原因；' +
  '二、解密阶段我公司CA数字证书多次提示“证书状态未知”，导致解密耗时较长，请说明该提示是否由平台证书吊销列表更新延迟引起；' +
  '三、唱标时第三名投标人的投标总价与其报价汇总表金额不一致，请招标代理机构当场核对并予以澄清；' +
  '四、请将本次开标全过程的音视频记录及平台操作日志依法存档，以备行政监督部门查阅。以上异议请予以书面答复，并记入开标记录表。' +
  '特此提出，望予以重视并及时处理，谢谢。我公司保留依法向行政监督部门投诉的权利，并将积极配合调查。';

const ANSWER =
  '经核查平台服务器日志，贵公司投标文件于截止时间前完成上传，回执时间以平台服务器时间为准；证书状态提示系吊销列表缓存刷新所致，未影响解密结果；第三名投标人报价以投标函为准，已当场核对一致。';

function sampleRecord(): OpeningRecordData {
  const deadline = at('2026-12-01T01:30:00.000Z'); // 09:30 Beijing time
  return {
    tender: {
      code: 'GC-2026-0815',
      name: '滨江新区综合管廊及市政道路配套工程施工总承包（一期）',
      type: 'construction',
      agencyName: '江南工程咨询有限公司',
      tendererName: '滨江新区城市建设投资集团有限公司',
      bidDeadline: deadline,
      decryptionStartedAt: at('2026-12-01T01:30:05.000Z'),
      decryptionEndedAt: at('2026-12-01T02:10:00.000Z'),
    },
    sections: [
      { seq: 1, name: '综合管廊主体工程', estimatedPriceFen: 120_000_000_00, outcome: 'opened' },
      { seq: 2, name: '市政道路及附属设施工程', estimatedPriceFen: 35_000_000_00, outcome: 'failed' },
    ],
    participants: [
      { bidderName: '中建华夏建设集团有限公司', creditCode: '91110000100001234X', signedInAt: at('2026-12-01T01:10:12.000Z') },
      { bidderName: '江苏恒远路桥工程有限公司', creditCode: '91320000MA1ABCDE1Y', signedInAt: at('2026-12-01T01:12:40.000Z') },
      { bidderName: '浙江同舟建设股份有限公司', creditCode: '91330000704123456P', signedInAt: at('2026-12-01T01:15:03.000Z') },
      { bidderName: '安徽鼎盛市政工程有限公司', creditCode: '91340100MA2N1B2C3D', signedInAt: at('2026-12-01T01:20:59.000Z') },
      { bidderName: '四川蜀道基础设施建设有限公司', creditCode: '91510000MA6C7D8E9F', signedInAt: null },
      { bidderName: '广东粤海城建集团有限公司', creditCode: '91440000190345678Q', signedInAt: at('2026-12-01T01:29:30.000Z') },
    ],
    bids: [
      { sectionSeq: 1, bidderName: '中建华夏建设集团有限公司', decryption: 'decrypted', cause: null, totalPriceFen: 112_345_678_90, durationDays: 540, quality: '合格', projectManager: '王建国', deposit: '已缴纳 ¥800,000.00（银行转账）', confirmation: 'confirmed' },
      { sectionSeq: 1, bidderName: '江苏恒远路桥工程有限公司', decryption: 'decrypted', cause: null, totalPriceFen: 109_876_543_21, durationDays: 520, quality: '合格', projectManager: '李明', deposit: '银行保函（中国银行南京分行）', confirmation: 'disputed' },
      { sectionSeq: 1, bidderName: '浙江同舟建设股份有限公司', decryption: 'revoked', cause: 'CA数字证书遗失，未能在解密时限内解密', totalPriceFen: null, durationDays: null, quality: null, projectManager: null, deposit: '已缴纳 ¥800,000.00', confirmation: 'confirmed' },
      { sectionSeq: 1, bidderName: '安徽鼎盛市政工程有限公司', decryption: 'withdrawn', cause: '平台解密服务中断', totalPriceFen: null, durationDays: null, quality: null, projectManager: null, deposit: '已缴纳 ¥800,000.00', confirmation: 'confirmed' },
      { sectionSeq: 1, bidderName: '四川蜀道基础设施建设有限公司', decryption: 'custodian-opened', cause: null, totalPriceFen: 115_000_000_00, durationDays: 560, quality: '合格', projectManager: '张伟', deposit: '保证保险', confirmation: 'deemed' },
      { sectionSeq: 2, bidderName: '广东粤海城建集团有限公司', decryption: 'decrypted', cause: null, totalPriceFen: 33_800_000_50, durationDays: 300, quality: '合格', projectManager: '陈静', deposit: '已缴纳 ¥700,000.00', confirmation: 'confirmed' },
    ],
    objections: [
      { bidderName: '江苏恒远路桥工程有限公司', raisedAt: at('2026-12-01T02:12:00.000Z'), text: LONG_OBJECTION, answer: ANSWER, answeredAt: at('2026-12-01T02:25:00.000Z') },
      ...Array.from({ length: 14 }, (_, i) => ({
        bidderName: i % 2 ? '中建华夏建设集团有限公司' : '广东粤海城建集团有限公司',
        raisedAt: at(`2026-12-01T02:${String(13 + i).padStart(2, '0')}:00.000Z`),
        text: `第${i + 2}项异议：请说明第${(i % 2) + 1}标段唱标顺序的确定依据，以及解密失败投标文件的处理方式是否已在招标文件中载明。`,
        answer: i === 13 ? null : `答复${i + 2}：唱标顺序按投标文件递交顺序确定；解密失败的处理依招标文件第二章第${i + 3}条执行。`,
        answeredAt: i === 13 ? null : at(`2026-12-01T02:${String(30 + i).padStart(2, '0')}:00.000Z`),
      })),
    ],
    generatedAt: at('2026-12-01T02:45:00.000Z'),
  };
}

describe('documents/opening-record', function () {
  this.timeout(180_000);

  let dir: string;
  let pdfPath: string;
  let pdf: Buffer;
  const data = sampleRecord();

  before(async function () {
    if (!hasTool('pdftotext') || !hasTool('pdffonts')) {
      throw new Error('poppler-utils (pdftotext, pdffonts, pdfinfo) is required: apt-get install -y poppler-utils');
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'opening-record-'));
    pdf = await renderOpeningRecord(data);
    pdfPath = path.join(dir, 'rec.pdf');
    fs.writeFileSync(pdfPath, pdf);
  });

  after(function () {
    if (!dir) return;
    // KEEP_TEST_PDFS=<folder> keeps the rendered documents for a look (pdftoppm -png -r 60 rec.pdf page).
    if (process.env.KEEP_TEST_PDFS) fs.cpSync(dir, process.env.KEEP_TEST_PDFS, { recursive: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the record is rendered, then it is a multi-page PDF with the title, tender and times in Beijing time', function () {
    assert.equal(pdf.subarray(0, 5).toString('latin1'), '%PDF-');
    assert.ok(pageCount(pdfPath) >= 2, 'expected the record to span pages');
    const text = squash(pdfText(pdfPath, '-layout'));
    for (const s of ['开标记录表', 'GC-2026-0815', '工程建设', '江南工程咨询有限公司', '滨江新区城市建设投资集团有限公司']) {
      assert.ok(text.includes(s), s);
    }
    // 01:30 UTC is 09:30 in Asia/Shanghai
    assert.ok(text.includes('2026-12-0109:30（北京时间）'), 'opening time in Beijing time');
    assert.ok(text.includes('2026-12-0109:30'), 'decryption start');
    assert.ok(text.includes('2026-12-0110:10'), 'decryption end');
    assert.ok(text.includes('《电子招标投标办法》第三十二条'), 'closing line');
    assert.ok(text.includes('生成时间：2026-12-0110:45（北京时间）'), 'generation time');
  });

  it('when the record is rendered, then the sections, bidders, prices in yuan and in capitals and the results appear', function () {
    const text = squash(pdfText(pdfPath, '-layout'));
    assert.ok(text.includes('第1标段：综合管廊主体工程'));
    assert.ok(text.includes('第2标段：市政道路及附属设施工程'));
    assert.ok(text.includes(`¥${formatYuan(120_000_000_00)}（壹亿贰仟万元整）`), 'estimated price');
    assert.ok(text.includes('开标结果：流标'), '流标');
    assert.ok(text.includes('开标结果：正常开标'));
    for (const bid of data.bids) {
      assert.ok(text.includes(bid.bidderName), bid.bidderName);
      if (bid.totalPriceFen !== null) {
        assert.ok(text.includes(`¥${formatYuan(bid.totalPriceFen)}`), `price of ${bid.bidderName}`);
        assert.ok(text.includes(toChineseCapital(bid.totalPriceFen)), `capital price of ${bid.bidderName}`);
      }
    }
    assert.ok(text.includes('¥112,345,678.90'));
    assert.ok(text.includes('壹亿壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角'));
    assert.ok(text.includes('¥33,800,000.50'));
    assert.ok(text.includes('叁仟叁佰捌拾万元零伍角'));
    for (const s of ['已解密', '撤销（投标人原因）', '撤回（非投标人原因）', '由保管单位开启', '已确认', '视为认可', '有异议', '540日历天', '王建国']) {
      assert.ok(text.includes(s), s);
    }
    assert.ok(text.includes('撤销'), '撤销');
    assert.ok(squash(pdfText(pdfPath, '-raw')).includes('原因：CA数字证书遗失，未能在解密时限内解密'), 'revocation cause');
  });

  it('when the record is rendered, then participants with sign-in times and the objections with answers appear', function () {
    const layout = squash(pdfText(pdfPath, '-layout'));
    assert.ok(layout.includes('91110000100001234X'));
    assert.ok(layout.includes('2026-12-0109:10'), 'sign-in time');
    assert.ok(layout.includes('未签到'));
    const raw = squash(pdfText(pdfPath, '-raw'));
    assert.equal(Array.from(LONG_OBJECTION).length, 300);
    assert.ok(raw.includes(squash(LONG_OBJECTION)), 'the 300-character objection');
    assert.ok(raw.includes(squash(ANSWER)), 'its answer');
    assert.ok(layout.includes('2026-12-0110:25'), 'answer time');
    assert.ok(raw.includes('未答复'));
  });

  it('when a table continues on the next page, then its header row is repeated there', function () {
    const pages = pageCount(pdfPath);
    const withObjectionHeader = Array.from({ length: pages }, (_, i) => squash(pdfText(pdfPath, '-layout', i + 1))).filter((t) =>
      /异议人\s*提出时间\s*异议内容\s*答复\s*答复时间/.test(t),
    );
    assert.ok(withObjectionHeader.length >= 2, `objection table header on ${withObjectionHeader.length} page(s)`);
    assert.ok(squash(pdfText(pdfPath, '-layout', pages)).includes(`第${pages}页共${pages}页`), 'page numbers');
  });

  it('when the fonts are listed, then an embedded Noto Sans SC subset is used', function () {
    const r = tool('pdffonts', [pdfPath]);
    assert.equal(r.status, 0, r.stderr);
    const noto = r.stdout.split('\n').filter((l) => /^[A-Z]{6}\+NotoSansSC/.test(l));
    assert.ok(noto.length >= 1, r.stdout);
    for (const line of noto) assert.match(line, /\byes\s+yes\s+yes\b/, `embedded subset with ToUnicode: ${line}`);
    assert.ok(!/\bno\s+(no|yes)\s+(no|yes)\s+\d+\s+\d+\s*$/m.test(r.stdout), `every font embedded:\n${r.stdout}`);
  });

  it('when there are no bids or objections, then it says so; when a bid names an unknown section, then it rejects', async function () {
    const empty = await renderOpeningRecord({ ...data, bids: [], objections: [], participants: [] });
    const file = path.join(dir, 'empty.pdf');
    fs.writeFileSync(file, empty);
    const text = squash(pdfText(file, '-layout'));
    assert.ok(text.includes('本标段无投标文件'));
    assert.ok(text.includes('开标过程中无投标人提出异议'));
    await assert.rejects(renderOpeningRecord({ ...data, bids: [{ ...data.bids[0]!, sectionSeq: 9 }] }), RangeError);
  });

  it('when a procurement record is rendered, then it says 政府采购 and uses 包 and 采购预算金额', async function () {
    const proc = await renderOpeningRecord({ ...data, tender: { ...data.tender, type: 'procurement', decryptionStartedAt: null, decryptionEndedAt: null } });
    const file = path.join(dir, 'proc.pdf');
    fs.writeFileSync(file, proc);
    const text = squash(pdfText(file, '-layout'));
    assert.ok(text.includes('政府采购'));
    assert.ok(text.includes('第1包：综合管廊主体工程'));
    assert.ok(text.includes('采购预算金额'));
    assert.ok(text.includes('未开始'));
  });

  it('when one table row is taller than a page, then it is split across pages and no text is lost', async function () {
    const sentences = 400;
    const tall = Array.from({ length: sentences }, (_, i) => `这是第${i + 1}句较长的说明文字，用于检验跨页拆分。`).join('');
    const out = await renderPdf({ title: 'table split', pageNumbers: true }, (doc) => {
      doc.font(FONT.regular).fontSize(12).text('拆分测试');
      drawTable(doc, {
        columns: [
          { header: '列甲', width: 1 },
          { header: '列乙', width: 3 },
        ],
        rows: [
          ['短行', '一行'],
          ['长行', tall],
          ['末行', '结束'],
        ],
      });
    });
    const file = path.join(dir, 'split.pdf');
    fs.writeFileSync(file, out);
    const pages = pageCount(file);
    assert.ok(pages >= 3, `pages: ${pages}`);
    const all = pdfText(file, '-raw');
    assert.equal((all.match(/句/g) ?? []).length, sentences, 'every sentence once');
    const joined = squash(all);
    const whole = Array.from({ length: sentences }, (_, i) => `这是第${i + 1}句较长的说明文字，用于检验跨页拆分。`).filter((t) => joined.includes(t));
    assert.ok(whole.length >= sentences - (pages - 1), `${whole.length} sentences intact (only page breaks may cut one)`);
    for (let p = 1; p <= pages; p++) assert.ok(squash(pdfText(file, '-layout', p)).includes('列甲列乙'), `header on page ${p}`);
    assert.ok(squash(all).includes('末行结束'));
  });

  describe('document signature', function () {
    let db: Db;
    let keys: PlatformKeys;
    const clock = new ControllableClock();

    before(async function () {
      db = (await createMigratedDatabase('opening_record')).db;
      keys = await loadPlatformKeys(db, clock, { passphrase: 'test-passphrase-0123456789', platformName: '测试公共资源交易中心' });
    });

    after(async function () {
      await db?.destroy();
    });

    it('when the platform keys are loaded, then the signer has a signing certificate from the platform CA and is kept', async function () {
      const info = parseCertificate(keys.signer.certificatePem);
      assert.equal(info.usage, 'signing');
      assert.equal(info.subject.commonName, '测试公共资源交易中心 电子签章 (document signing)');
      assert.equal(info.issuer.commonName, parseCertificate(keys.ca.certificatePem).subject.commonName);
      const again = await loadPlatformKeys(db, clock, { passphrase: 'test-passphrase-0123456789', platformName: '测试公共资源交易中心' });
      assert.equal(again.signer.certificatePem, keys.signer.certificatePem);
      assert.equal(again.signer.privateKeyPem, keys.signer.privateKeyPem);
      const row = await db('platform_keys').where({ name: 'signer' }).first();
      assert.match(row.secret_enc, /BEGIN ENCRYPTED PRIVATE KEY/);
    });

    it('when the record is signed, then openssl cms -verify and verifyDocument accept it and reject a modified PDF', function () {
      const signedAt = clock.now();
      const signature = signDocument(keys, pdf, signedAt);
      const sigPath = path.join(dir, 'rec.p7s');
      const caPath = path.join(dir, 'ca.pem');
      fs.writeFileSync(sigPath, signature);
      fs.writeFileSync(caPath, keys.ca.certificatePem);

      const r = tool('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sigPath, '-content', pdfPath, '-CAfile', caPath, '-purpose', 'any', '-out', '/dev/null']);
      assert.equal(r.status, 0, r.stderr);

      const ok = verifyDocument(pdf, signature, keys.ca.certificatePem);
      assert.ok(ok.ok, JSON.stringify(ok));
      assert.equal(ok.signer.usage, 'signing');
      assert.equal(ok.signingTime?.getTime(), Math.floor(signedAt.getTime() / 1000) * 1000);

      const modified = Buffer.from(pdf);
      modified[Math.floor(modified.length / 2)] ^= 0x01;
      const bad = verifyDocument(modified, signature, keys.ca.certificatePem);
      assert.deepEqual(bad.ok ? 'accepted' : bad.problem, 'DIGEST_MISMATCH');
      const modifiedPath = path.join(dir, 'rec-modified.pdf');
      fs.writeFileSync(modifiedPath, modified);
      const r2 = tool('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', sigPath, '-content', modifiedPath, '-CAfile', caPath, '-purpose', 'any', '-out', '/dev/null']);
      assert.notEqual(r2.status, 0);
    });

    it('when the CA is another one or the signer is not a signing certificate, then verifyDocument rejects it', function () {
      const signature = signDocument(keys, pdf, clock.now());
      const otherCa = createRootCa({ commonName: '他人根证书' }, { notBefore: new Date(Date.now() - 86_400_000), validityDays: 30 });
      const foreign = verifyDocument(pdf, signature, otherCa.certificatePem);
      assert.deepEqual(foreign.ok ? 'accepted' : foreign.problem, 'NOT_ISSUED_BY_CA');

      const sha256Hex = createHash('sha256').update(pdf).digest('hex');
      const byTsa = signDigest({ sha256Hex, certificatePem: keys.tsa.certificatePem, privateKeyPem: keys.tsa.privateKeyPem, signingTime: clock.now() });
      const wrongUsage = verifyDocument(pdf, byTsa, keys.ca.certificatePem);
      assert.deepEqual(wrongUsage.ok ? 'accepted' : wrongUsage.problem, 'WRONG_USAGE');

      const garbage = verifyDocument(pdf, Buffer.from('not a signature'), keys.ca.certificatePem);
      assert.deepEqual(garbage.ok ? 'accepted' : garbage.problem, 'MALFORMED');
    });
  });
});
