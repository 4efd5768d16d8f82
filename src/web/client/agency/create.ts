/**
 * 新建项目: a draft tender and its sections (标段). Amounts are typed in yuan and sent as integer fen; times are
 * typed as Beijing wall-clock time. The page checks what it can (amounts, the 2% deposit cap) before asking; the
 * platform's refusals (deadline too close, deposit above cap, …) are shown beside the form with their codes.
 */
import { get, post } from '../lib/api';
import { field, h, replace, section } from '../lib/dom';
import { yuan } from '../lib/format';
import { notify } from '../lib/layout';
import { beijingInput, depositCapFen, yuanToFen } from './money';
import { formError, InputError, submitWith } from './ui';

interface Org {
  id: string;
  name: string;
  status?: string;
}

interface SectionRow {
  el: HTMLFieldSetElement;
  name: HTMLInputElement;
  estimate: HTMLInputElement;
  deposit: HTMLInputElement;
}

export function createTenderPanel(): HTMLElement {
  const name = h('input', { type: 'text', required: true, minlength: 2, maxlength: 200, name: 'name' });
  const type = h(
    'select',
    { name: 'type' },
    h('option', { value: 'construction' }, '工程建设招标 / Construction'),
    h('option', { value: 'procurement' }, '政府采购 / Procurement'),
  );
  const tenderer = h('select', { name: 'tenderer', required: true }, h('option', { value: '' }, '正在加载招标人… / Loading…'));
  const region = h('input', { type: 'text', maxlength: 100, name: 'region', placeholder: '例如：陕西省西安市' });
  const description = h('textarea', { name: 'description', maxlength: 20000, rows: 3 });
  const deadline = h('input', { type: 'datetime-local', required: true, name: 'deadline' });
  const window = h('input', { type: 'number', min: 10, max: 240, step: 1, value: '30', required: true, name: 'window' });
  const policy = h(
    'select',
    { name: 'policy' },
    h('option', { value: 'withdraw' }, '视为撤回投标 / Treat as withdrawn'),
    h('option', { value: 'custodian-open' }, '由密钥保管单位门限开启 / Custodians open it'),
  );
  const threshold = h(
    'select',
    { name: 'threshold' },
    h('option', { value: '2' }, '3 家中任意 2 家 / 2 of 3'),
    h('option', { value: '3' }, '3 家全部 / 3 of 3'),
  );

  const sectionsBox = h('div', {});
  const rows: SectionRow[] = [];
  const priceWord = () => (type.value === 'procurement' ? '预算金额' : '估算价');

  function relabel(): void {
    rows.forEach((r, i) => {
      const n = i + 1;
      r.el.querySelector('legend')!.textContent = `第 ${n} 标段 / Section ${n}`;
      const labels = r.el.querySelectorAll('label');
      labels[0].textContent = `标段 ${n} 名称 / Section ${n} name`;
      labels[1].textContent = `标段 ${n} ${priceWord()}（元） / Section ${n} estimate (yuan)`;
      labels[2].textContent = `标段 ${n} 投标保证金（元） / Section ${n} deposit (yuan)`;
      const remove = r.el.querySelector('button');
      if (remove) remove.hidden = rows.length === 1;
    });
  }

  function addSection(): void {
    const row: SectionRow = {
      el: h('fieldset', { class: 'agency-section' }, h('legend', {}, '')),
      name: h('input', { type: 'text', required: true, maxlength: 200 }),
      estimate: h('input', { type: 'text', inputmode: 'decimal', required: true, autocomplete: 'off' }),
      deposit: h('input', { type: 'text', inputmode: 'decimal', required: true, autocomplete: 'off', value: '0' }),
    };
    const remove = h('button', { type: 'button', class: 'secondary' }, '删除此标段 / Remove section');
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      relabel();
    });
    row.el.append(
      h(
        'div',
        { class: 'inline-fields' },
        field('标段名称', row.name),
        field('估算价', row.estimate, '单位：元，最多两位小数 / yuan, up to 2 decimals'),
        field('投标保证金', row.deposit, '不得超过估算价（预算金额）的 2%（TLR 26；GPR 33）'),
      ),
      remove,
    );
    rows.push(row);
    sectionsBox.append(row.el);
    relabel();
  }
  addSection();
  type.addEventListener('change', relabel);

  const addButton = h('button', { type: 'button', class: 'secondary' }, '添加标段 / Add a section');
  addButton.addEventListener('click', () => {
    addSection();
    rows[rows.length - 1].name.focus();
  });

  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '新建项目 / New tender', novalidate: false },
    h('p', { class: 'muted' }, '保存后为草稿：上传招标文件并确认无误后再发布。 / Saved as a draft; upload the documents, then publish.'),
    field('项目名称 / Tender name', name),
    h('div', { class: 'inline-fields' }, field('招标类型 / Type', type), field('招标人 / Tenderer', tenderer, '招标人单位须已在平台登记 / a registered tenderer')),
    field('地区 / Region', region),
    field('项目概况 / Description', description),
    h(
      'div',
      { class: 'inline-fields' },
      field('投标截止时间（北京时间） / Bid deadline (Beijing time)', deadline, '即开标时间；自招标文件发出之日起不少于 20 日（TL 24） / also the opening time; at least 20 days after publication'),
      field('解密时限（分钟） / Decryption window (minutes)', window, '10–240 分钟（EB 30）'),
    ),
    h(
      'div',
      { class: 'inline-fields' },
      field('解密失败处理 / Decryption failure policy', policy, '非投标人原因导致解密失败时的处理（EB 31）'),
      field('开标密钥门限 / Opening-key threshold', threshold, '开标密钥拆分给本机构、监管部门和交易中心保管 / key shares: agency, regulator, trading centre'),
    ),
    h('h3', {}, '标段 · Sections'),
    sectionsBox,
    h('p', {}, addButton),
    errorEl,
    h('button', { type: 'submit' }, '保存草稿 / Save draft'),
  );

  submitWith(form, errorEl, async () => {
    const bidDeadline = beijingInput(deadline.value);
    if (!bidDeadline) throw new InputError('请填写投标截止时间 (enter the bid deadline)');
    if (!tenderer.value) throw new InputError('请选择招标人 (choose the tenderer)');
    const sections = rows.map((r, i) => {
      const n = i + 1;
      const estimatedPriceFen = yuanToFen(r.estimate.value);
      const depositFen = yuanToFen(r.deposit.value);
      if (estimatedPriceFen === null || estimatedPriceFen < 1) throw new InputError(`第${n}标段${priceWord()}不是有效金额（元，最多两位小数）`);
      if (depositFen === null) throw new InputError(`第${n}标段投标保证金不是有效金额（元，最多两位小数）`);
      if (depositFen > depositCapFen(estimatedPriceFen)) {
        throw new InputError(`第${n}标段投标保证金超过${priceWord()}的2%，最多 ${yuan(depositCapFen(estimatedPriceFen))}（TLR 26；GPR 33） [DEPOSIT_ABOVE_CAP]`);
      }
      return { name: r.name.value.trim(), estimatedPriceFen, depositFen };
    });
    const created = await post<{ id: string; code: string }>('/tenders', {
      name: name.value.trim(),
      type: type.value,
      tendererOrgId: tenderer.value,
      region: region.value.trim() || undefined,
      description: description.value || undefined,
      bidDeadline,
      decryptionWindowMinutes: Number(window.value),
      decryptionFailurePolicy: policy.value,
      custodianThreshold: Number(threshold.value),
      sections,
    });
    notify(`草稿已保存：${created.code}。请上传招标文件后发布。 / Draft saved.`, 'ok');
    location.hash = `#tender/${created.id}`;
  });

  void get<Org[]>('/organisations?type=tenderer')
    .then((orgs) => {
      const active = orgs.filter((o) => !o.status || o.status === 'active');
      replace(
        tenderer,
        h('option', { value: '' }, active.length ? '请选择 / Choose' : '平台上还没有招标人单位，请联系交易中心登记 / none registered'),
        active.map((o) => h('option', { value: o.id }, o.name)),
      );
    })
    .catch((err) => {
      replace(tenderer, h('option', { value: '' }, '招标人列表加载失败 / could not load'));
      errorEl.hidden = false;
      errorEl.textContent = `招标人列表加载失败，请刷新页面重试 (${err instanceof Error ? err.message : String(err)})`;
    });

  return section('新建项目 · New tender', form);
}
