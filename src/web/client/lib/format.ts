/** Amounts and times as people read them: yuan with thousands separators, Beijing time. */

const YUAN = new Intl.NumberFormat('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 });

/** 123456789 fen → "¥1,234,567.89". Integer fen in, exact: no floating point on the way. */
export function yuan(fen: number | string | null | undefined): string {
  if (fen === null || fen === undefined || fen === '') return '—';
  const n = BigInt(typeof fen === 'number' ? Math.trunc(fen) : fen);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const whole = YUAN.format(Number(abs / 100n)).replace(/\.00$/, '');
  const cents = String(abs % 100n).padStart(2, '0');
  return `${neg ? '-' : ''}¥${whole}.${cents}`;
}

const PARTS = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** An instant as "2026-11-23 09:00:00" in Asia/Shanghai, whatever the viewer's own time zone. */
export function shanghai(at: string | Date | null | undefined, withSeconds = true): string {
  if (at === null || at === undefined || at === '') return '—';
  const d = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(d.getTime())) return '—';
  const p = Object.fromEntries(PARTS.formatToParts(d).map((x) => [x.type, x.value]));
  const time = withSeconds ? `${p.hour}:${p.minute}:${p.second}` : `${p.hour}:${p.minute}`;
  return `${p.year}-${p.month}-${p.day} ${time}`;
}

/** A date only, "2026-11-25", in Asia/Shanghai. */
export function shanghaiDate(at: string | Date | null | undefined): string {
  return shanghai(at).slice(0, 10);
}

/** 725000 ms → "12 分 05 秒"; with hours, "1 小时 02 分 05 秒". */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = String(Math.floor((total % 3600) / 60)).padStart(2, '0');
  const s = String(total % 60).padStart(2, '0');
  if (h >= 48) return `${Math.floor(h / 24)} 天 ${h % 24} 小时`;
  return h > 0 ? `${h} 小时 ${m} 分 ${s} 秒` : `${m} 分 ${s} 秒`;
}

/** Byte counts for people: "1.5 MB". */
export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
