/**
 * 统一社会信用代码 (unified social credit code), GB 32100-2015: 18 characters, the last a check character over the
 * first 17 (weights 3^i mod 31, alphabet without I, O, Z, S, V).
 */
const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

export function creditCodeCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += ALPHABET.indexOf(first17[i]) * WEIGHTS[i];
  const c = 31 - (sum % 31);
  return ALPHABET[c === 31 ? 0 : c];
}

export function isValidCreditCode(code: string): boolean {
  if (!/^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/.test(code)) return false;
  return creditCodeCheckChar(code.slice(0, 17)) === code[17];
}

/** Completes a 17-character body with its check character (seeds and tests make valid codes with it). */
export function withCheckChar(first17: string): string {
  return first17 + creditCodeCheckChar(first17);
}
