/** Small pieces the console's views share: status names, a confirmation dialog, a form's own refusal line. */
import { describeError } from '../lib/api';
import { h } from '../lib/dom';
import { notifyError, runBusy } from '../lib/layout';

import type { TenderSection, TenderSummary } from '../lib/tender';

export type { TenderSection, TenderSummary };
export { loading } from '../lib/dom';

const STATUS: Record<TenderSummary['status'], [string, string]> = {
  draft: ['草稿 / Draft', 'warn'],
  published: ['投标中 / Open for bids', 'ok'],
  sealed: ['已截止 / Deadline passed', ''],
  terminated: ['已终止 / Terminated', 'bad'],
};

export const TYPE_NAMES: Record<TenderSummary['type'], string> = {
  construction: '工程建设 / Construction',
  procurement: '政府采购 / Procurement',
};

export function statusBadge(status: TenderSummary['status']): HTMLElement {
  const [label, kind] = STATUS[status] ?? [status, ''];
  return h('span', { class: `badge ${kind}`.trim() }, label);
}

/** The deadline has passed on the platform's clock once the tender is sealed; the viewer's clock is a fallback. */
export function deadlinePassed(t: Pick<TenderSummary, 'status' | 'bidDeadline'>): boolean {
  return t.status === 'sealed' || (t.status === 'published' && new Date(t.bidDeadline).getTime() <= Date.now());
}

/**
 * Asks before an irreversible step, in a modal dialog that says what will happen. Resolves true on confirm; Escape
 * and the cancel button resolve false. The dialog takes the focus and gives it back.
 */
export function confirmAction(opts: { title: string; body: string[]; confirm: string; danger?: boolean; extra?: HTMLElement }): Promise<boolean> {
  const back = document.activeElement as HTMLElement | null;
  const titleId = `dlg-${Math.random().toString(36).slice(2, 8)}`;
  const ok = h('button', { type: 'button', class: opts.danger ? 'danger' : null }, opts.confirm);
  const cancel = h('button', { type: 'button', class: 'secondary' }, '取消 / Cancel');
  const dialog = h(
    'dialog',
    { 'aria-labelledby': titleId, class: 'panel agency-dialog' },
    h('h2', { id: titleId }, opts.title),
    opts.body.map((p) => h('p', {}, p)),
    opts.extra ?? null,
    h('div', { class: 'row' }, ok, cancel),
  );
  document.body.append(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      back?.focus();
      resolve(answer);
    };
    ok.addEventListener('click', () => close(true));
    cancel.addEventListener('click', () => close(false));
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(false);
    });
  });
}

/** A form's refusal line, beside the form it is about (and in the page's message line too). */
export function formError(): HTMLElement {
  return h('p', { class: 'notice error agency-form-error', role: 'alert', hidden: true });
}

export function showFormError(el: HTMLElement, err: unknown): void {
  el.textContent = describeError(err);
  el.hidden = false;
  notifyError(err);
}

export function clearFormError(el: HTMLElement): void {
  el.textContent = '';
  el.hidden = true;
}

/** A form's submit with its refusal shown next to it (and in the page's message line); the buttons are off while it runs. */
export function submitWith(form: HTMLFormElement, errorEl: HTMLElement, run: () => Promise<unknown>): void {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const attempt = async () => {
      clearFormError(errorEl);
      await run();
    };
    void runBusy(form, [...form.querySelectorAll('button')], attempt, { onError: (err) => showFormError(errorEl, err) });
  });
}

/** A refusal made in the page, before asking the platform (e.g. an amount that is not one). */
export class InputError extends Error {}
