/**
 * PDF rendering with the embedded CJK font (see templates/README.md). pdfkit embeds only the glyphs a document uses,
 * so a short Chinese document stays around 10 KB although the font file is ~10 MB.
 *
 * `renderPdf` holds the document setup every layout shares (fonts, metadata, page numbers, collecting the bytes);
 * `src/documents/table.ts` draws tables on it; each formal document (开标记录表, 中标通知书, …) is a module that calls both.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';

const require = createRequire(import.meta.url);

/** Noto Sans SC (SIL OFL), installed from npm by `@expo-google-fonts/noto-sans-sc`. */
export const CJK_FONT_PATH = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');
export const CJK_BOLD_FONT_PATH = require.resolve('@expo-google-fonts/noto-sans-sc/700Bold/NotoSansSC_700Bold.ttf');

/** Font names registered on every document made by `renderPdf`. */
export const FONT = { regular: 'cjk', bold: 'cjk-bold' } as const;

const fontCache = new Map<string, Buffer>();
function fontBytes(path: string): Buffer {
  let bytes = fontCache.get(path);
  if (!bytes) {
    bytes = fs.readFileSync(path);
    fontCache.set(path, bytes);
  }
  return bytes;
}

export type PdfDocument = PDFKit.PDFDocument;

export interface PdfOptions {
  title: string;
  subject?: string;
  /** Default A4 portrait. */
  layout?: 'portrait' | 'landscape';
  /** Page margin in points (all four sides); default 56 (about 2 cm). */
  margin?: number;
  /** Written into the PDF's CreationDate (default: now). Pass the document's own generation time. */
  creationDate?: Date;
  /**
   * Draws a footer on every page once the document is complete: `footerText` on the left and, when `pageNumbers`,
   * 第 n 页 共 m 页 on the right.
   */
  pageNumbers?: boolean;
  footerText?: string;
}

/**
 * Creates an A4 document with the CJK fonts registered (FONT.regular is selected), lets `draw` lay it out and
 * resolves with the PDF bytes.
 */
export function renderPdf(opts: PdfOptions, draw: (doc: PdfDocument) => void): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const margin = opts.margin ?? 56;
    const doc = new PDFDocument({
      size: 'A4',
      layout: opts.layout ?? 'portrait',
      margin,
      bufferPages: Boolean(opts.pageNumbers || opts.footerText),
      info: {
        Title: opts.title,
        ...(opts.subject ? { Subject: opts.subject } : {}),
        Creator: 'gongzi-trading-platform',
        ...(opts.creationDate ? { CreationDate: opts.creationDate } : {}),
      },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      doc.registerFont(FONT.regular, fontBytes(CJK_FONT_PATH));
      doc.registerFont(FONT.bold, fontBytes(CJK_BOLD_FONT_PATH));
      doc.font(FONT.regular);
      draw(doc);
      if (opts.pageNumbers || opts.footerText) drawFooters(doc, margin, opts);
      doc.end();
    } catch (err) {
      reject(err);
    }
  });
}

function drawFooters(doc: PdfDocument, margin: number, opts: PdfOptions): void {
  const range = doc.bufferedPageRange();
  for (let i = range.start; i < range.start + range.count; i++) {
    doc.switchToPage(i);
    const page = doc.page;
    // Writing inside the bottom margin would make pdfkit start a new page; lift the margin while drawing the footer.
    const bottom = page.margins.bottom;
    page.margins.bottom = 0;
    const y = page.height - margin / 2 - 5;
    const width = page.width - page.margins.left - page.margins.right;
    doc.font(FONT.regular).fontSize(8).fillColor('#555555');
    if (opts.footerText) doc.text(opts.footerText, page.margins.left, y, { width, align: 'left', lineBreak: false });
    if (opts.pageNumbers) {
      doc.text(`第 ${i - range.start + 1} 页 共 ${range.count} 页`, page.margins.left, y, { width, align: 'right', lineBreak: false });
    }
    doc.fillColor('black');
    page.margins.bottom = bottom;
  }
}

/** A one-column A4 document: a centred title, then one paragraph per line (an empty string leaves a blank line). */
export function renderSimplePdf(title: string, lines: string[]): Promise<Buffer> {
  return renderPdf({ title }, (doc) => {
    doc.font(FONT.regular).fontSize(18).text(title, { align: 'center' });
    doc.moveDown();
    doc.fontSize(11);
    for (const line of lines) {
      if (line === '') doc.moveDown(0.5);
      else doc.text(line, { lineGap: 4 });
    }
  });
}
