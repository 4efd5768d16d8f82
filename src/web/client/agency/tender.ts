/**
 * One tender (#tender/<id>): its particulars and sections; for its own agency, what the tender's stage allows —
 * documents and publication for a draft, clarifications and counts while bids come in, the opening hall and the
 * award after the deadline.
 */
import { download, get, post } from '../lib/api';
import { bytes, shanghai, yuan } from '../lib/format';
import { field, h, replace, section, table } from '../lib/dom';
import { notify, notifyError } from '../lib/layout';
import type { Session } from '../lib/session';
import { awardPanels } from './award';
import { clarificationsPanel, type Clarification } from './clarifications';
import { bidCountsPanel } from './counts';
import { confirmAction, deadlinePassed, formError, InputError, loading, statusBadge, submitWith, TYPE_NAMES, type TenderSummary } from './ui';
import { uploadTenderDocument } from './upload';

interface TenderDocument {
  id: string;
  fileName: string;
  sizeBytes: number;
  sha256: string;
  uploadedAt: string;
}

export interface TenderDetail extends TenderSummary {
  description: string;
  documents: TenderDocument[];
  clarifications: Clarification[];
  custodianOrgIds: string[];
  custodianThreshold: number;
  decryptionWindowMinutes: number;
  decryptionFailurePolicy: 'withdraw' | 'custodian-open';
  originalDeadline: string;
  terminationReason: string | null;
}

const POLICY: Record<TenderDetail['decryptionFailurePolicy'], string> = {
  withdraw: '视为撤回投标 / treated as withdrawn',
  'custodian-open': '由密钥保管单位门限开启 / opened by the custodians',
};

export async function renderTender(main: HTMLElement, session: Session, id: string, reload: () => void): Promise<void> {
  const holder = h('div', {}, loading());
  main.append(h('p', {}, h('a', { href: '#' }, '← 返回项目列表 / Back to my tenders')), holder);
  let t: TenderDetail;
  try {
    t = await get<TenderDetail>(`/tenders/${id}`);
  } catch (err) {
    replace(holder, h('p', {}, '无法打开该项目：它不存在，或不属于本单位。 / This tender cannot be shown.'));
    notifyError(err);
    return;
  }
  const manages = session.organisation.type === 'agency' && session.organisation.id === t.agencyOrgId;
  // a published tender is public, but its counts and award steps are for its agency, its tenderer and the centre
  const involved = manages || session.organisation.id === t.tendererOrgId || session.organisation.type === 'operator';
  document.title = `${t.name} · 招标代理工作台`;
  const heading = main.querySelector('h1');
  if (heading) heading.textContent = `${t.name}`;

  const panels: HTMLElement[] = [overview(t)];
  if (deadlinePassed(t)) {
    panels.unshift(
      h(
        'section',
        { class: 'panel agency-hall', 'aria-label': '开标 / Opening' },
        h('p', { class: 'state-banner' }, '投标截止时间已到，开标在开标大厅进行。 / The deadline has passed: the opening runs in the hall.'),
        h('p', {}, h('a', { href: `/hall/${t.id}`, class: 'button' }, '进入开标大厅 / Go to the opening hall')),
      ),
    );
  }
  if (t.status === 'draft' && manages) panels.push(documentsPanel(t, reload), publishPanel(t, reload));
  else panels.push(documentsList(t));
  if (t.status === 'published' || t.status === 'sealed') {
    panels.push(clarificationsPanel(t.id, t.clarifications, manages && !deadlinePassed(t), reload));
    if (involved) panels.push(bidCountsPanel(t.id, t.sections));
  }
  if (t.status === 'sealed' && involved) panels.push(...(await awardPanels(t, manages, reload)));
  if (manages && (t.status === 'draft' || t.status === 'published') && !deadlinePassed(t)) panels.push(terminatePanel(t, reload));
  replace(holder, ...panels);
}

function overview(t: TenderDetail): HTMLElement {
  const postponed = new Date(t.originalDeadline).getTime() !== new Date(t.bidDeadline).getTime();
  const tenderer = h('span', {}, '…');
  void get<{ name: string }>(`/organisations/${t.tendererOrgId}`)
    .then((o) => (tenderer.textContent = o.name))
    .catch(() => (tenderer.textContent = '—'));
  const item = (term: string, ...value: Array<Node | string>) => [h('dt', {}, term), h('dd', {}, ...value)];
  return section(
    '项目信息 · Tender',
    h('p', { class: 'row' }, statusBadge(t.status), h('span', { class: 'muted' }, t.code), h('span', { class: 'muted' }, TYPE_NAMES[t.type])),
    h(
      'dl',
      { class: 'agency-facts' },
      item('投标截止（北京时间） / Bid deadline', h('strong', { 'data-testid': 'bid-deadline' }, shanghai(t.bidDeadline)), postponed ? ` （原定 ${shanghai(t.originalDeadline)}，已因澄清顺延 / postponed）` : ''),
      item('招标人 / Tenderer', tenderer),
      item('地区 / Region', t.region ?? '—'),
      item('招标文件发出 / Documents issued', t.documentsIssuedAt ? shanghai(t.documentsIssuedAt) : '尚未发布 / not yet'),
      item('解密时限 / Decryption window', `${t.decryptionWindowMinutes} 分钟`),
      item('解密失败处理 / Failure policy', POLICY[t.decryptionFailurePolicy]),
      item('开标密钥门限 / Key threshold', `${t.custodianThreshold} / ${t.custodianOrgIds.length}`),
      t.terminationReason ? item('终止原因 / Termination reason', t.terminationReason) : [],
    ),
    t.description ? h('p', { class: 'agency-prewrap' }, t.description) : null,
    h(
      'div',
      { class: 'table-wrap' },
      table(
        ['标段 / Section', '名称 / Name', `${t.type === 'procurement' ? '预算金额' : '估算价'} / Estimate`, '投标保证金 / Deposit'],
        t.sections.map((s) => [`第 ${s.seq} 标段`, s.name, yuan(s.estimatedPriceFen), yuan(s.depositFen)]),
        { testId: 'sections', numeric: [2, 3] },
      ),
    ),
  );
}

function documentRows(t: TenderDetail) {
  return t.documents.map((d) => {
    const get = h('button', { type: 'button', class: 'link agency-link' }, `下载 ${d.fileName}`);
    get.addEventListener('click', () => download(`/tenders/${t.id}/documents/${d.id}`, d.fileName).catch(notifyError));
    return [d.fileName, bytes(d.sizeBytes), shanghai(d.uploadedAt), h('code', { class: 'agency-hash', title: d.sha256 }, `${d.sha256.slice(0, 16)}…`), get];
  });
}

const DOC_HEADERS = ['文件 / File', '大小 / Size', '上传时间 / Uploaded', 'SHA-256', '下载 / Download'];

function documentsList(t: TenderDetail): HTMLElement {
  return section('招标文件 · Tender documents', h('div', { class: 'table-wrap' }, table(DOC_HEADERS, documentRows(t), { testId: 'documents' })));
}

function documentsPanel(t: TenderDetail, reload: () => void): HTMLElement {
  const file = h('input', { type: 'file', required: true, accept: '.pdf,.doc,.docx,.zip,.rar,.7z,.xls,.xlsx' });
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '上传招标文件 / Upload a tender document' },
    field('招标文件 / Tender document', file, '发布前上传；发布后不能更换，只能发布澄清或修改 / before publishing; up to 200 MB'),
    errorEl,
    h('button', { type: 'submit' }, '上传 / Upload'),
  );
  submitWith(form, errorEl, async () => {
    const f = file.files?.[0];
    if (!f) throw new InputError('请选择要上传的文件 (choose a file)');
    notify(`正在上传 ${f.name}（${bytes(f.size)}）… / Uploading…`);
    const doc = await uploadTenderDocument(t.id, f);
    reload();
    notify(`已上传：${doc.fileName}（SHA-256 ${doc.sha256.slice(0, 16)}…） / Uploaded.`, 'ok');
  });
  return section(
    '招标文件 · Tender documents',
    h('div', { class: 'table-wrap' }, table(DOC_HEADERS, documentRows(t), { testId: 'documents', empty: '尚未上传招标文件：发布前须上传。 / No document yet: upload one before publishing.' })),
    form,
  );
}

function publishPanel(t: TenderDetail, reload: () => void): HTMLElement {
  const button = h('button', { type: 'button', disabled: t.documents.length === 0 }, '发布招标项目 / Publish');
  button.addEventListener('click', async () => {
    const yes = await confirmAction({
      title: '确认发布？ · Publish this tender?',
      body: [
        `发布即发出招标文件：投标人即可下载并投标，自今日起计算不少于 20 日的投标期，截止时间 ${shanghai(t.bidDeadline)}（北京时间）。`,
        `平台随即生成本项目的开标密钥，投标文件以它加密；密钥拆分为 ${t.custodianOrgIds.length} 份交保管单位保管，开标时须 ${t.custodianThreshold} 家共同参与方可恢复，任何一方都不能提前开启。`,
        '发布后不能再修改项目或更换招标文件，只能发布澄清或修改。此操作不可撤销。',
        'Publishing issues the documents, generates the opening key and splits it among the custodians. It cannot be undone.',
      ],
      confirm: '确认发布 / Publish',
    });
    if (!yes) return;
    button.disabled = true;
    try {
      await post(`/tenders/${t.id}/publish`);
      reload();
      notify('项目已发布，招标文件已发出，开标密钥已生成并拆分给保管单位。 / Published.', 'ok');
    } catch (err) {
      notifyError(err);
      button.disabled = false;
    }
  });
  return section(
    '发布 · Publish',
    h('p', {}, t.documents.length === 0 ? '请先上传招标文件。 / Upload the tender document first.' : '检查项目信息和招标文件无误后发布。 / Check everything, then publish.'),
    button,
  );
}

function terminatePanel(t: TenderDetail, reload: () => void): HTMLElement {
  const button = h('button', { type: 'button', class: 'danger' }, '终止招标 / Terminate');
  button.addEventListener('click', async () => {
    const reason = h('textarea', { required: true, minlength: 2, maxlength: 2000, rows: 3 });
    const yes = await confirmAction({
      title: '确认终止招标？ · Terminate this tender?',
      body: ['终止后项目不能恢复；已收取的投标保证金将退还（TLR 31）。 / Cannot be undone; deposits are refunded.'],
      extra: field('终止原因 / Reason', reason),
      confirm: '确认终止 / Terminate',
      danger: true,
    });
    if (!yes) return;
    try {
      await post(`/tenders/${t.id}/terminate`, { reason: reason.value.trim() });
      reload();
      notify('项目已终止。 / Terminated.', 'ok');
    } catch (err) {
      notifyError(err);
    }
  });
  return section('终止招标 · Terminate', h('p', { class: 'muted' }, '开标前可终止招标（TLR 31）。'), button);
}
