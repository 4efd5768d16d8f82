/** What the hall reads from the API, and how its states and events read in Chinese. */
import type { TenderSummary } from '../lib/tender';

export type OpeningState = 'signing-in' | 'decrypting' | 'announcing' | 'objections' | 'recorded' | 'closed' | 'failed';

export interface Counts {
  bids: number;
  keyReceived: number;
  decrypted: number;
  failed: number;
}

export interface HallView {
  tenderId: string;
  state: OpeningState;
  paused: boolean;
  serverTime: string;
  bidDeadline: string;
  decryptionWindowMinutes: number;
  decryptionStartedAt: string | null;
  decryptionEndsAt: string | null;
  confirmationEndsAt: string | null;
  objectionEndsAt: string | null;
  remedyEndsAt: string | null;
  recordedAt: string | null;
  sectionOutcomes: Array<{ sectionId?: string; seq?: number; validBids?: number; failed?: boolean }> | null;
  retenderRequired?: boolean;
  participants: Array<{ bidderOrgId: string; name: string; signedInAt: string; decryption: Counts }>;
  progress: Counts;
  myBids?: Array<{ bidId: string; sectionId: string; decryption: 'no-key' | 'key-received' | 'decrypted' | 'failed'; failureCode: string | null; outcome: string | null }>;
}

export type Tender = TenderSummary;

export interface Reading {
  bidId: string;
  sectionId: string;
  bidder: string;
  bidderOrgId: string;
  outcome: string | null;
  cause: string | null;
  totalPriceFen: number | null;
  durationDays: number | null;
  quality: string | null;
  projectManager: string | null;
  deposit: string | null;
  confirmation: 'confirmed' | 'disputed' | 'deemed' | null;
}

export interface Objection {
  id: string;
  bidderOrgId: string;
  text: string;
  raisedAt: string;
  answer: string | null;
  answeredAt: string | null;
}

export interface LiveEvent {
  seq: number;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

export const STATE_LABELS: Record<string, string> = {
  'signing-in': '签到中 / Signing in',
  decrypting: '解密中 / Decrypting',
  announcing: '唱标、确认中 / Reading out and confirming',
  objections: '异议期 / Objections',
  recorded: '已形成开标记录 / Recorded',
  closed: '开标结束 / Closed',
  failed: '流标：有效投标不足三家 / Failed: fewer than three valid bids',
};

export const DECRYPTION_LABELS: Record<string, string> = {
  'no-key': '待解密 / awaiting key',
  'key-received': '已收到密钥，解密中 / key received, decrypting',
  decrypted: '已解密 / decrypted',
  failed: '解密失败 / failed',
};

export const OUTCOME_LABELS: Record<string, string> = {
  decrypted: '解密成功',
  'custodian-opened': '由密钥保管人开启',
  revoked: '解密失败（投标人原因）',
  withdrawn: '解密失败，退回',
};

export const CONFIRMATION_LABELS: Record<string, string> = {
  confirmed: '已确认',
  disputed: '有异议',
  deemed: '逾期未确认，视为认可',
};

type Describe = (d: Record<string, unknown>, names: (orgId: unknown) => string) => string;

/** How each live event of an opening reads in the hall's feed; the keys are the events the hall listens for. */
const EVENTS: Record<string, Describe> = {
  'opening.begin': () => '投标截止，开标开始：投标人签到 / the opening began: sign in',
  'opening.transition': (d) => `进入阶段：${STATE_LABELS[String(d.to)] ?? String(d.to)}`,
  'opening.sign-in': (d, names) => `${names(d.bidderOrgId)} 已签到 / signed in`,
  'opening.key-received': () => '收到一份投标文件的解密密钥 / a content key was handed over',
  'opening.decrypted': () => '一份投标文件已解密 / a bid was decrypted',
  'opening.custodian-opened': () => '一份投标文件由密钥保管人开启 / a bid was opened by the custodians',
  'opening.decryption-failed': (d) => `一份投标文件解密失败（${String(d.code ?? '')}） / a decryption failed`,
  'opening.window-closed': () => '解密时限结束 / the decryption window closed',
  'opening.confirm': (d) => `一位投标人${d.kind === 'disputed' ? '对唱标结果有异议' : '确认了唱标结果'} / a bidder ${d.kind === 'disputed' ? 'disputed' : 'confirmed'}`,
  'opening.objection': (d) => `投标人提出异议：${String(d.text ?? '')}`,
  'opening.objection-answer': (d) => `主持人答复异议：${String(d.answer ?? '')}`,
  'opening.pause': () => '主持人暂停开标 / paused by the host',
  'opening.resume': () => '主持人恢复开标，时限顺延 / resumed; windows extended',
  'opening.remedy-started': () => '密钥保管人补救开启开始 / custodian remedy started',
  'opening.remedy-failed': () => '密钥保管人补救开启失败 / custodian remedy failed',
};

export const EVENT_TYPES = Object.keys(EVENTS);

/** One line of the hall's live feed; `names` turns organisation ids into names. */
export function describeEvent(e: LiveEvent, names: (orgId: unknown) => string): string {
  return EVENTS[e.type]?.(e.data, names) ?? e.type;
}
