/** Amounts are integer fen (分) inside the platform and shown as yuan (元) with thousands separators. */
export function formatYuan(fen: number): string {
  if (!Number.isSafeInteger(fen)) throw new RangeError(`amount in fen must be a safe integer: ${fen}`);
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  const yuan = Math.floor(abs / 100)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${yuan}.${String(abs % 100).padStart(2, '0')}`;
}

/** The largest deposit allowed: 2% of the estimated price or budget (TLR 26, GPR 33), rounded down to the fen. */
export function depositCapFen(estimatedPriceFen: number): number {
  return Math.floor((estimatedPriceFen * 2) / 100);
}
