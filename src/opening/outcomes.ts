/**
 * The causes the opening records for a bid that did not open (EB 31): the bidder's own failures, treated as revoked
 * (撤销), and the rest, treated as withdrawn (撤回) unless the custodians' remedy opened the bid.
 */
import type { BidDecryption } from './opening.repository';

/** Failures that are the bidder's own (EB 31: treated as revoked, 撤销). */
export const BIDDER_FAULTS: Record<string, string> = {
  NO_KEY: '投标人未在解密时限内提交解密密钥 (no key within the window)',
  TAG_MISMATCH: '投标人提交的解密密钥无法打开投标文件 (the key the bidder gave does not open the bid)',
  MANIFEST_MISMATCH: '投标文件内容与本项目、标段或投标人不符 (the package names another tender, section or bidder)',
  PACKAGE_INVALID: '投标文件包损坏或不合规 (the bid package is damaged or invalid)',
};

export const CUSTODIAN_OPENED_CAUSE = '非投标人原因解密失败，按招标文件约定由保管单位门限密钥开启 (opened with the custodians\' threshold key, EB 31)';

export function isBidderFault(code: string): boolean {
  return code in BIDDER_FAULTS || code.startsWith('ENVELOPE_');
}

/** EB 31: why a bid that failed through no fault of its bidder is treated as withdrawn (撤回), remedy included. */
export function withdrawnCause(code: string, d: BidDecryption | undefined): string {
  const base = `非投标人原因解密失败 (not the bidder's fault: ${code})`;
  if (d?.remedyStatus === 'pending') return `${base}；保管单位未在补救时限内释放足够的密钥分片 (the custodians did not release enough shares in time, EB 31)`;
  if (d?.remedyStatus === 'failed') return `${base}；保管单位门限密钥亦未能开启 (the custodians' key did not open it either: ${d.remedyFailureCode})`;
  return base;
}

