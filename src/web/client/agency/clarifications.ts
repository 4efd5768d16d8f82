/**
 * 澄清/修改: the list, and a form to issue one. A clarification that may affect bid preparation, issued fewer
 * than 15 days before the deadline, postpones it (TLR 21): the platform applies the rule, the page shows old → new.
 */
import { post } from '../lib/api';
import { field, h, section, table } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notify } from '../lib/layout';
import { beijingInput } from './money';
import { formError, InputError, submitWith } from './ui';
import { deadlineMoved, type Clarification } from '../lib/tender';

export type { Clarification };

export function deadlineChange(c: Clarification): HTMLElement {
  return deadlineMoved(c)
    ? h('span', { class: 'agency-moved' }, h('span', { class: 'badge warn' }, '截止顺延 / Postponed'), ' ', h('del', {}, shanghai(c.deadlineBefore)), ' → ', h('strong', {}, shanghai(c.deadlineAfter)))
    : h('span', { class: 'muted' }, '未变 / unchanged');
}

/** `canIssue`: the tender's own agency, before the deadline. `onIssued` reloads the tender view. */
export function clarificationsPanel(tenderId: string, list: Clarification[], canIssue: boolean, onIssued: () => void): HTMLElement {
  const rows = list.map((c) => [
    String(c.seq),
    h('details', {}, h('summary', {}, c.title), h('p', { class: 'agency-prewrap' }, c.body)),
    shanghai(c.issuedAt),
    c.affectsBidPreparation ? '是 / yes' : '否 / no',
    deadlineChange(c),
  ]);
  const listTable = h(
    'div',
    { class: 'table-wrap' },
    table(['序号 / No.', '标题 / Title', '发布时间 / Issued', '影响投标文件编制 / Affects bids', '投标截止 / Bid deadline'], rows, {
      testId: 'clarifications',
      empty: '尚未发布澄清或修改。 / No clarifications yet.',
    }),
  );
  if (!canIssue) return section('澄清与修改 · Clarifications', listTable);

  const title = h('input', { type: 'text', required: true, maxlength: 200 });
  const body = h('textarea', { required: true, maxlength: 50000, rows: 4 });
  const affects = h('input', { type: 'checkbox', checked: true });
  const newDeadline = h('input', { type: 'datetime-local' });
  const errorEl = formError();
  const form = h(
    'form',
    { 'aria-label': '发布澄清或修改 / Issue a clarification' },
    h('h3', {}, '发布澄清或修改 · Issue a clarification'),
    field('澄清标题 / Title', title),
    field('澄清内容 / Content', body),
    h(
      'div',
      { class: 'field agency-check' },
      h('label', {}, affects, ' 可能影响投标文件编制 / May affect bid preparation'),
      h('small', { class: 'hint' }, '距投标截止不足 15 日的，平台将自动顺延截止时间，使之满足 15 日（TLR 21）。'),
    ),
    field('新的投标截止时间（北京时间，可选） / New bid deadline (optional)', newDeadline, '只能推后，不能提前；留空则按规则确定 / may only postpone; empty: as the rule requires'),
    errorEl,
    h('button', { type: 'submit' }, '发布澄清 / Issue clarification'),
  );
  submitWith(form, errorEl, async () => {
    let chosen: string | undefined;
    if (newDeadline.value) {
      chosen = beijingInput(newDeadline.value) ?? undefined;
      if (!chosen) throw new InputError('新的投标截止时间格式无效 (invalid deadline)');
    }
    const res = await post<{ clarification: Clarification; deadlinePostponed: boolean }>(`/tenders/${tenderId}/clarifications`, {
      title: title.value.trim(),
      body: body.value,
      affectsBidPreparation: affects.checked,
      newDeadline: chosen,
    });
    const c = res.clarification;
    onIssued();
    notify(
      res.deadlinePostponed
        ? `澄清已发布。投标截止时间顺延：${shanghai(c.deadlineBefore)} → ${shanghai(c.deadlineAfter)}（北京时间） / Deadline postponed.`
        : '澄清已发布，投标截止时间不变。 / Clarification issued; deadline unchanged.',
      'ok',
    );
  });
  return section('澄清与修改 · Clarifications', listTable, form);
}
