/**
 * Amounts in Chinese capital numerals (大写金额), as written on financial documents, following the People's Bank of
 * China rules for filling in bills and settlement vouchers (《支付结算办法》附件《正确填写票据和结算凭证的基本规定》):
 *
 * - digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, section units 万 and 亿 (亿 sections recurse, so 万亿 for 10^12);
 *   10 is written 壹拾, never 拾;
 * - one 零 stands for any run of zeros between non-zero digits (1,001 → 壹仟零壹; 100,010,000 → 壹亿零壹万);
 * - 元 always follows the yuan part; when the yuan digit is 0 and the 角 is not, 零 follows 元
 *   (1,000,000.50 → 壹佰万元零伍角; the rules allow omitting it, this platform writes it);
 * - 角 is 0 and 分 is not → 元零…分 (1,010.01 → 壹仟零壹拾元零壹分);
 * - 整 after 元 when there is no 角 or 分; not after 角 or 分;
 * - amounts under one yuan have no 元 (0.50 → 伍角, 0.05 → 伍分); zero is 零元整.
 */

const DIGITS = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'] as const;
const UNITS = ['仟', '佰', '拾', ''] as const;

/** 1..9999 with no leading 零; zeros between non-zero digits collapse into one 零, trailing zeros vanish. */
function section(n: number): string {
  const digits = String(n).padStart(4, '0');
  let out = '';
  let pendingZero = false;
  for (let i = 0; i < 4; i++) {
    const d = Number(digits[i]);
    if (d === 0) {
      if (out !== '') pendingZero = true;
      continue;
    }
    if (pendingZero) out += '零';
    pendingZero = false;
    out += DIGITS[d] + UNITS[i];
  }
  return out;
}

/** A positive integer number of yuan, without the trailing 元. */
function integerPart(n: number): string {
  if (n >= 1e8) {
    const high = Math.floor(n / 1e8);
    const rest = n % 1e8;
    // A rest with fewer than eight digits starts with zeros: one 零 stands for them.
    return integerPart(high) + '亿' + (rest === 0 ? '' : (rest < 1e7 ? '零' : '') + integerPart(rest));
  }
  if (n >= 1e4) {
    const high = Math.floor(n / 1e4);
    const rest = n % 1e4;
    return section(high) + '万' + (rest === 0 ? '' : (rest < 1e3 ? '零' : '') + section(rest));
  }
  return section(n);
}

/** The amount in fen as 大写金额, e.g. 120_000_000_00 → 壹亿贰仟万元整. Throws RangeError for negative or non-integer input. */
export function toChineseCapital(fen: number): string {
  if (typeof fen !== 'number' || !Number.isSafeInteger(fen)) throw new RangeError(`amount in fen must be a safe integer: ${String(fen)}`);
  if (fen < 0) throw new RangeError(`amount in fen must not be negative: ${fen}`);
  if (fen === 0) return '零元整';

  const yuan = Math.floor(fen / 100);
  const jiao = Math.floor(fen / 10) % 10;
  const fenDigit = fen % 10;

  let out = yuan > 0 ? integerPart(yuan) + '元' : '';
  if (jiao === 0 && fenDigit === 0) return out + '整';
  if (jiao > 0) {
    if (yuan > 0 && yuan % 10 === 0) out += '零';
    out += DIGITS[jiao] + '角';
  } else if (yuan > 0) {
    out += '零';
  }
  if (fenDigit > 0) out += DIGITS[fenDigit] + '分';
  return out;
}
