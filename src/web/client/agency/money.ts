/**
 * What people type into the forms, turned into what the API takes: yuan as text → integer fen by string
 * arithmetic (never through a float: 0.1 + 0.2 must not cost anyone a fen), and Beijing wall-clock times → ISO
 * instants with the +08:00 offset (the viewer's own time zone plays no part).
 */

/** "1,234,567.8" → 123456780; null when it is not an amount of at most two decimals. */
export function yuanToFen(text: string): number | null {
  const clean = text.trim().replace(/[,，\s]/g, '').replace(/^[¥￥]/, '');
  const m = /^(\d+)(?:\.(\d{0,2}))?$/.exec(clean);
  if (!m) return null;
  const fen = BigInt(m[1]) * 100n + BigInt((m[2] ?? '').padEnd(2, '0') || '0');
  return fen > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(fen);
}

/** 123456780 → "1234567.80", for prefilling an amount field. */
export function fenToYuanInput(fen: number): string {
  const n = BigInt(fen);
  return `${n / 100n}.${String(n % 100n).padStart(2, '0')}`;
}

/** TLR 26 / GPR 33: the deposit at most 2% of the estimate, rounded down to the fen (as the platform counts it). */
export function depositCapFen(estimatedFen: number): number {
  return Number((BigInt(estimatedFen) * 2n) / 100n);
}

/** A datetime-local value read as Beijing time: "2026-12-20T09:30" → "2026-12-20T09:30:00+08:00". */
export function beijingInput(value: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?$/.exec(value.trim());
  return m ? `${m[1]}T${m[2]}${m[3] ?? ':00'}+08:00` : null;
}

/** An instant as a datetime-local value in Beijing time, to the second: "2026-12-20T09:30:00". */
export function toBeijingInput(at: string | Date): string {
  const d = new Date(new Date(at).getTime() + 8 * 3600_000);
  return d.toISOString().slice(0, 19);
}
