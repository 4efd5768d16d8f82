/**
 * Layout helpers shared by the formal documents (开标记录表, 中标通知书, 保证金退还凭证, …): bordered tables whose cells
 * wrap long text, that continue on the next page with the header row repeated, and that split a row across pages
 * only when the row is taller than a whole page; plus headings and a label/value grid.
 *
 * Everything draws at the document's current position (doc.y) between the left and right margins and leaves doc.y
 * just below what it drew, so a layout is a sequence of calls.
 */
import { FONT, type PdfDocument } from './pdf';

export type Align = 'left' | 'center' | 'right';

export interface TableColumn {
  header: string;
  /** Relative width: the columns share the table's width in proportion to these numbers. */
  width: number;
  align?: Align;
  /** Background of this column's body cells (e.g. the label column of a label/value grid). */
  fill?: string;
  /** Body cells of this column in bold. */
  bold?: boolean;
}

/** A cell's text; null or undefined print as `TableOptions.blank`. A `\n` starts a new line inside the cell. */
export type TableCell = string | null | undefined;

export interface TableOptions {
  columns: TableColumn[];
  rows: TableCell[][];
  /** Left edge and width; default the page's content area. */
  x?: number;
  width?: number;
  fontSize?: number;
  /** Inner cell padding in points. */
  padding?: number;
  lineGap?: number;
  /** Whether to draw the header row (and repeat it on every page the table continues on). Default true. */
  showHeader?: boolean;
  headerFill?: string;
  /** Printed for null/undefined cells. Default '—'. */
  blank?: string;
  /** Printed in one full-width row when `rows` is empty. Default: no row at all. */
  emptyText?: string;
  /** A bold heading above the table and a line of text under it, kept on the same page as the header and first row. */
  title?: string;
  note?: string;
  titleFontSize?: number;
}

const BORDER_COLOR = '#444444';
const DEFAULT_HEADER_FILL = '#e8e8e8';

/** Width between the page margins. */
export function contentWidth(doc: PdfDocument): number {
  return doc.page.width - doc.page.margins.left - doc.page.margins.right;
}

/** The lowest y content may reach on the current page. */
export function pageBottom(doc: PdfDocument): number {
  return doc.page.height - doc.page.margins.bottom;
}

/** Starts a new page unless `height` points still fit below doc.y. Returns true when it added a page. */
export function ensureSpace(doc: PdfDocument, height: number): boolean {
  if (doc.y + height <= pageBottom(doc)) return false;
  doc.addPage();
  return true;
}

/** A bold heading; kept together with at least `keepWithNext` points of what follows. */
export function drawHeading(doc: PdfDocument, text: string, opts: { fontSize?: number; align?: Align; keepWithNext?: number; spaceAfter?: number } = {}): void {
  const fontSize = opts.fontSize ?? 12;
  doc.font(FONT.bold).fontSize(fontSize);
  const width = contentWidth(doc);
  const height = doc.heightOfString(text, { width });
  ensureSpace(doc, height + (opts.keepWithNext ?? 60));
  doc.text(text, doc.page.margins.left, doc.y, { width, align: opts.align ?? 'left' });
  doc.y += opts.spaceAfter ?? 4;
  doc.font(FONT.regular);
}

/** A paragraph across the content width (wraps; pdfkit continues it on the next page when needed). */
export function drawParagraph(doc: PdfDocument, text: string, opts: { fontSize?: number; bold?: boolean; align?: Align; lineGap?: number; spaceAfter?: number; color?: string } = {}): void {
  doc.font(opts.bold ? FONT.bold : FONT.regular).fontSize(opts.fontSize ?? 10);
  if (opts.color) doc.fillColor(opts.color);
  doc.text(text, doc.page.margins.left, doc.y, { width: contentWidth(doc), align: opts.align ?? 'left', lineGap: opts.lineGap ?? 2 });
  if (opts.color) doc.fillColor('black');
  doc.y += opts.spaceAfter ?? 4;
  doc.font(FONT.regular);
}

/**
 * Label/value pairs in a bordered grid, `pairsPerRow` pairs side by side (labels shaded and bold). A value may be long:
 * it wraps like any table cell.
 */
export function drawKeyValueGrid(
  doc: PdfDocument,
  pairs: Array<[label: string, value: TableCell]>,
  opts: { pairsPerRow?: number; labelWidth?: number; valueWidth?: number; fontSize?: number } = {},
): void {
  const perRow = opts.pairsPerRow ?? 2;
  const columns: TableColumn[] = [];
  for (let i = 0; i < perRow; i++) {
    columns.push({ header: '', width: opts.labelWidth ?? 1, fill: DEFAULT_HEADER_FILL, bold: true });
    columns.push({ header: '', width: opts.valueWidth ?? 2.2 });
  }
  const rows: TableCell[][] = [];
  for (let i = 0; i < pairs.length; i += perRow) {
    const row: TableCell[] = [];
    for (let j = 0; j < perRow; j++) {
      const pair = pairs[i + j];
      row.push(pair ? pair[0] : '', pair ? pair[1] : '');
    }
    rows.push(row);
  }
  drawTable(doc, { columns, rows, showHeader: false, fontSize: opts.fontSize ?? 10, padding: 5 });
}

interface Layout {
  x: number;
  widths: number[];
  fontSize: number;
  padding: number;
  lineGap: number;
  headerFill: string;
}

/**
 * Draws a table at doc.y. Rows that do not fit on the rest of the page move to the next page, below a repeated header;
 * a row taller than a whole page is split, its cells continuing on the next page.
 */
export function drawTable(doc: PdfDocument, opts: TableOptions): void {
  const { columns } = opts;
  if (columns.length === 0) throw new RangeError('a table needs at least one column');
  for (const row of opts.rows) {
    if (row.length !== columns.length) throw new RangeError(`table row has ${row.length} cells, expected ${columns.length}`);
  }
  const x = opts.x ?? doc.page.margins.left;
  const width = opts.width ?? contentWidth(doc);
  const totalWeight = columns.reduce((s, c) => s + c.width, 0);
  const layout: Layout = {
    x,
    widths: columns.map((c) => (width * c.width) / totalWeight),
    fontSize: opts.fontSize ?? 9,
    padding: opts.padding ?? 4,
    lineGap: opts.lineGap ?? 1,
    headerFill: opts.headerFill ?? DEFAULT_HEADER_FILL,
  };
  const blank = opts.blank ?? '—';
  const showHeader = opts.showHeader ?? true;
  const headerCells = columns.map((c) => c.header);
  const headerStyle = columns.map(() => ({ bold: true, align: 'center' as Align, fill: layout.headerFill }));
  const bodyStyle = columns.map((c) => ({ bold: c.bold ?? false, align: c.align ?? 'left', fill: c.fill }));

  const rows: string[][] = opts.rows.map((r) => r.map((cell) => (cell === null || cell === undefined || cell === '' ? blank : cell)));
  const headerHeight = showHeader ? rowHeight(doc, layout, headerCells, headerStyle) : 0;

  const caption = (): number => captionHeight(doc, opts);
  const drawHeader = (): void => {
    if (!showHeader) return;
    drawRow(doc, layout, headerCells, headerStyle, headerHeight);
  };

  if (rows.length === 0) {
    if (opts.emptyText === undefined) return;
    const single: Layout = { ...layout, widths: [width] };
    const h = rowHeight(doc, single, [opts.emptyText], [{ bold: false, align: 'center', fill: undefined }]);
    ensureSpace(doc, caption() + headerHeight + h);
    drawCaption(doc, opts);
    drawHeader();
    drawRow(doc, single, [opts.emptyText], [{ bold: false, align: 'center', fill: undefined }], h);
    afterTable(doc);
    return;
  }

  // Keep the caption and the header with the first row (or with a few lines of it when it has to be split anyway).
  const firstHeight = rowHeight(doc, layout, rows[0]!, bodyStyle);
  const fullPage = (): number => pageBottom(doc) - doc.page.margins.top - headerHeight;
  const minUseful = 3 * (layout.fontSize + layout.lineGap) + 2 * layout.padding;
  const firstNeeds = firstHeight <= fullPage() - caption() ? firstHeight : minUseful;
  if (doc.y + caption() + headerHeight + firstNeeds > pageBottom(doc)) doc.addPage();
  drawCaption(doc, opts);
  drawHeader();

  for (const row of rows) {
    let pending: string[] | null = row;
    while (pending) {
      const height = rowHeight(doc, layout, pending, bodyStyle);
      const room = pageBottom(doc) - doc.y;
      if (height <= room) {
        drawRow(doc, layout, pending, bodyStyle, height);
        pending = null;
        break;
      }
      // Does not fit here. A row that would fit on a fresh page moves there whole; a taller one is split, using the
      // rest of this page when at least a few lines fit in it.
      if (height <= fullPage() || room < minUseful) {
        doc.addPage();
        drawHeader();
        continue;
      }
      const [head, tail] = splitRow(doc, layout, pending, bodyStyle, room);
      drawRow(doc, layout, head, bodyStyle, room);
      doc.addPage();
      drawHeader();
      pending = tail;
    }
  }
  afterTable(doc);
}

function captionHeight(doc: PdfDocument, opts: TableOptions): number {
  const width = opts.width ?? contentWidth(doc);
  let h = 0;
  if (opts.title) {
    doc.font(FONT.bold).fontSize(opts.titleFontSize ?? 12);
    h += doc.heightOfString(opts.title, { width }) + 4;
  }
  if (opts.note) {
    doc.font(FONT.regular).fontSize(opts.fontSize ?? 9);
    h += doc.heightOfString(opts.note, { width, lineGap: 2 }) + 4;
  }
  return h;
}

function drawCaption(doc: PdfDocument, opts: TableOptions): void {
  const x = opts.x ?? doc.page.margins.left;
  const width = opts.width ?? contentWidth(doc);
  if (opts.title) {
    doc.font(FONT.bold).fontSize(opts.titleFontSize ?? 12).fillColor('black');
    doc.text(opts.title, x, doc.y, { width });
    doc.y += 4;
  }
  if (opts.note) {
    doc.font(FONT.regular).fontSize(opts.fontSize ?? 9).fillColor('black');
    doc.text(opts.note, x, doc.y, { width, lineGap: 2 });
    doc.y += 4;
  }
}

function afterTable(doc: PdfDocument): void {
  doc.x = doc.page.margins.left;
  doc.y += 6;
  doc.font(FONT.regular);
}

interface CellStyle {
  bold: boolean;
  align: Align;
  fill: string | undefined;
}

function useCellFont(doc: PdfDocument, layout: Layout, style: CellStyle): void {
  doc.font(style.bold ? FONT.bold : FONT.regular).fontSize(layout.fontSize);
}

function textHeight(doc: PdfDocument, layout: Layout, text: string, width: number): number {
  if (text === '') return 0;
  return doc.heightOfString(text, { width: width - 2 * layout.padding, lineGap: layout.lineGap });
}

function rowHeight(doc: PdfDocument, layout: Layout, cells: string[], styles: CellStyle[]): number {
  let max = 0;
  cells.forEach((text, i) => {
    useCellFont(doc, layout, styles[i]!);
    max = Math.max(max, textHeight(doc, layout, text, layout.widths[i]!));
  });
  return Math.ceil(max + 2 * layout.padding);
}

function drawRow(doc: PdfDocument, layout: Layout, cells: string[], styles: CellStyle[], height: number): void {
  const top = doc.y;
  let cx = layout.x;
  cells.forEach((text, i) => {
    const w = layout.widths[i]!;
    const style = styles[i]!;
    if (style.fill) doc.save().rect(cx, top, w, height).fill(style.fill).restore();
    doc.save().lineWidth(0.5).strokeColor(BORDER_COLOR).rect(cx, top, w, height).stroke().restore();
    if (text !== '') {
      useCellFont(doc, layout, style);
      doc.fillColor('black').text(text, cx + layout.padding, top + layout.padding, {
        width: w - 2 * layout.padding,
        align: style.align,
        lineGap: layout.lineGap,
        // A bounded height keeps pdfkit from starting a page of its own inside a cell.
        height: height - layout.padding + 1,
      });
    }
    cx += w;
  });
  doc.x = layout.x;
  doc.y = top + height;
}

/** Splits every cell so the first part fits in `room` points (padding included); the rest continues on the next page. */
function splitRow(doc: PdfDocument, layout: Layout, cells: string[], styles: CellStyle[], room: number): [string[], string[]] {
  const maxText = room - 2 * layout.padding - 1;
  const head: string[] = [];
  const tail: string[] = [];
  cells.forEach((text, i) => {
    useCellFont(doc, layout, styles[i]!);
    const w = layout.widths[i]!;
    if (textHeight(doc, layout, text, w) <= maxText) {
      head.push(text);
      tail.push('');
      return;
    }
    const chars = Array.from(text);
    // The longest prefix whose wrapped height fits (binary search: height grows with the prefix).
    let lo = 0;
    let hi = chars.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (textHeight(doc, layout, chars.slice(0, mid).join(''), w) <= maxText) lo = mid;
      else hi = mid - 1;
    }
    // Always make progress, even in a room too small for one line.
    const cut = Math.max(lo, 1);
    head.push(chars.slice(0, cut).join('').trimEnd());
    tail.push(chars.slice(cut).join('').replace(/^[ \t\r\n]+/, ''));
  });
  return [head, tail];
}
