/** 公示期异议: what bidders of the section raised during the candidate publicity, and the agency's answers (TLR 54). */
import { post } from '../lib/api';
import { field, h } from '../lib/dom';
import { shanghai } from '../lib/format';
import { notify } from '../lib/layout';
import type { AwardStatus } from './award';
import { formError, submitWith } from './ui';

export function objectionsBlock(base: string, st: AwardStatus, manages: boolean, reload: () => void): HTMLElement {
  if (st.objections.length === 0) {
    return h('p', { class: 'muted' }, st.publicity?.running ? '公示期内暂无异议。 / No objections so far.' : '公示期内无异议。 / No objections were raised.');
  }
  return h(
    'div',
    {},
    h('h3', {}, '公示期异议 · Objections'),
    h(
      'ul',
      { class: 'agency-objections' },
      st.objections.map((o) => {
        const head = h('p', {}, h('strong', {}, `异议（${shanghai(o.raisedAt)}）：`), o.text);
        if (o.answer) {
          return h('li', {}, head, h('p', {}, `答复（${shanghai(o.answeredAt)}）：${o.answer}`, o.late ? h('span', { class: 'badge bad' }, ' 逾期答复') : null));
        }
        if (!manages) return h('li', {}, head, h('p', { class: 'muted' }, `待答复，期限 ${shanghai(o.answerDueAt)}`));
        const answer = h('textarea', { required: true, minlength: 2, maxlength: 2000, rows: 2 });
        const errorEl = formError();
        const form = h(
          'form',
          { 'aria-label': '答复异议 / Answer the objection' },
          field(`答复（期限 ${shanghai(o.answerDueAt)}） / Answer (due)`, answer),
          errorEl,
          h('button', { type: 'submit' }, '提交答复 / Send answer'),
        );
        submitWith(form, errorEl, async () => {
          await post(`${base}/publicity/objections/${o.id}/answer`, { answer: answer.value.trim() });
          reload();
          notify('异议已答复。 / Answer recorded.', 'ok');
        });
        return h('li', {}, head, form);
      }),
    ),
    h('p', { class: 'muted' }, '异议答复前暂停招标投标活动，中标通知书须待全部异议答复后发出（TLR 54）。'),
  );
}
