/** Display helpers for bidtool output (Chinese with English alongside). */
import type { CertificateUsage, ChainProblem, SubjectFields } from '../pki';

const SHANGHAI_FORMAT = new Intl.DateTimeFormat('zh-CN', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** "2025-03-01 08:00:00 (北京时间 UTC+8)" */
export function formatShanghaiTime(d: Date): string {
  const parts = Object.fromEntries(SHANGHAI_FORMAT.formatToParts(d).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} (北京时间 UTC+8)`;
}

/** RFC 4514-like one-line name, most significant first as stored: "C=CN, O=…, CN=…". */
export function formatName(n: SubjectFields): string {
  const parts: string[] = [];
  if (n.countryName) parts.push(`C=${n.countryName}`);
  if (n.organizationName) parts.push(`O=${n.organizationName}`);
  if (n.organizationalUnitName) parts.push(`OU=${n.organizationalUnitName}`);
  if (n.commonName) parts.push(`CN=${n.commonName}`);
  if (n.serialNumber) parts.push(`serialNumber=${n.serialNumber}`);
  return parts.join(', ');
}

export const USAGE_LABELS: Record<CertificateUsage | 'unknown', string> = {
  signing: '签名 / signing',
  encryption: '加密 / encryption',
  opening: '开标 / opening',
  tsa: '时间戳 / tsa',
  ca: '证书机构 / ca',
  unknown: '未知 / unknown',
};

export const PROBLEM_LABELS: Record<ChainProblem, string> = {
  NOT_ISSUED_BY_CA: '证书不是由该 CA 签发 / certificate was not issued by this CA',
  NOT_YET_VALID: '证书尚未生效 / certificate is not yet valid',
  EXPIRED: '证书已过期 / certificate has expired',
  WRONG_USAGE: '证书用途不符 / certificate has the wrong usage',
};

