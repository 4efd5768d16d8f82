/**
 * A tiny element builder. Text goes in as text nodes only — nothing a user or the API supplied is ever parsed as
 * HTML — so a tender name like `<img onerror=…>` shows as what it is.
 */
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

/** Replaces an element's content. */
export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing`);
  return el as T;
}

/** A table: header cells and rows of cells; an empty list shows `empty` across the table. */
/** A table that stacks its cells on a phone; `numeric` columns align right (amounts, counts). */
export function table(
  headers: string[],
  rows: Child[][],
  opts: { caption?: string; empty?: string; testId?: string; numeric?: number[] } = {},
): HTMLTableElement {
  return h(
    'table',
    { 'data-testid': opts.testId, class: 'stack' },
    opts.caption ? h('caption', {}, opts.caption) : null,
    h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { colspan: headers.length, class: 'empty' }, opts.empty ?? '暂无 / none'))
        : rows.map((r) => h('tr', {}, r.map((c, i) => h('td', { 'data-label': headers[i], class: opts.numeric?.includes(i) ? 'num' : null }, c)))),
    ),
  );
}

/** A labelled form field: the label names the control, for screen readers and for tests alike. */
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 10)}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = `s-${Math.random().toString(36).slice(2, 10)}`;
  return h('section', { 'aria-labelledby': id, class: 'panel' }, h('h2', { id }, title), ...children);
}

/** A placeholder read out while a part of the page loads (a slow connection shows it for a while). */
export function loading(what = '正在加载… / Loading…'): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, what);
}

/** An id as the API gives them (a UUID): checked before it goes into a path or is looked up as one. */
export const isUuid = (s: unknown): s is string => typeof s === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);
