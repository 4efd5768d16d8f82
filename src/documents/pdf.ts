/**
 * PDF rendering with the embedded CJK font (see templates/README.md). pdfkit embeds only the glyphs a document uses,
 * so a short Chinese document stays around 10 KB although the font file is ~10 MB.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';

const require = createRequire(import.meta.url);

/** Noto Sans SC (SIL OFL), installed from npm by `@expo-google-fonts/noto-sans-sc`. */
export const CJK_FONT_PATH = require.resolve('@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf');

let fontBytes: Buffer | undefined;
function cjkFont(): Buffer {
  fontBytes ??= fs.readFileSync(CJK_FONT_PATH);
  return fontBytes;
}

/** A one-column A4 document: a centred title, then one paragraph per line (an empty string leaves a blank line). */
export function renderSimplePdf(title: string, lines: string[]): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: title, Creator: 'gongzi-trading-platform' } });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    try {
      doc.registerFont('cjk', cjkFont());
      doc.font('cjk').fontSize(18).text(title, { align: 'center' });
      doc.moveDown();
      doc.fontSize(11);
      for (const line of lines) {
        if (line === '') doc.moveDown(0.5);
        else doc.text(line, { lineGap: 4 });
      }
      doc.end();
    } catch (err) {
      reject(err);
    }
  });
}
