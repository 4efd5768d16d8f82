/** How the alert and audit vocabulary reads for a supervisor: Chinese first, the API's word beside it. */

export type Severity = 'critical' | 'high' | 'warning' | 'info';
export type Status = 'open' | 'acknowledged' | 'investigating' | 'confirmed' | 'dismissed';

export const SEVERITIES: Severity[] = ['critical', 'high', 'warning', 'info'];
export const STATUSES: Status[] = ['open', 'acknowledged', 'investigating', 'confirmed', 'dismissed'];

export const SEVERITY_LABELS: Record<Severity, string> = { critical: '严重', high: '高', warning: '警告', info: '提示' };
export const STATUS_LABELS: Record<Status, string> = {
  open: '待处理',
  acknowledged: '已签收',
  investigating: '调查中',
  confirmed: '已确认属实',
  dismissed: '已排除',
};

export const STEP_LABELS: Partial<Record<Status, string>> = {
  acknowledged: '签收 / Acknowledge',
  investigating: '立案调查 / Investigate',
  confirmed: '确认属实 / Confirm',
  dismissed: '排除 / Dismiss',
};

export const severityText = (s: string) => `${SEVERITY_LABELS[s as Severity] ?? s}`;
export const statusText = (s: string) => `${STATUS_LABELS[s as Status] ?? s}`;

/** Rules raised by the services themselves (not the rule engine, whose rules /monitoring/rules describes). */
export const SERVICE_RULES: Record<string, string> = {
  'early-key-access': '提前取得开标密钥或分片',
  'deposit-shared-account': '不同投标人保证金从同一账户转出',
  'deposit-not-basic-account': '保证金未从基本账户转出',
  'deposit-unmatched': '到账未匹配保证金子账户',
  'bank-notification-refused': '拒收银行到账通知',
  'bank-notification-missing': '对账补记到账',
  'bank-credit-not-on-statement': '到账不在银行对账单中',
  'bank-refund-without-debit': '已退款但银行无付款',
  'bank-unknown-debit': '银行有平台未发起的付款',
  'refund-failed': '保证金退款被拒',
  'refund-at-risk': '保证金退款临近期限',
  'refund-overdue': '保证金退款逾期',
  'calendar-year-missing': '缺少工作日历',
};

/** The laws the platform cites, by the abbreviations its rules use (docs: domain-rules.md). */
const LAWS: Array<[RegExp, string]> = [
  [/\bNDRC1117\b/g, '发改法规规〔2022〕1117号'],
  [/\bGP87\b/g, '财政部令第87号'],
  [/\bGPR\b/g, '《政府采购法实施条例》'],
  [/\bGPL\b/g, '《政府采购法》'],
  [/\bTLR\b/g, '《招标投标法实施条例》'],
  [/\bTL\b/g, '《招标投标法》'],
  [/\bEB\b/g, '《电子招标投标办法》'],
];

/** "TLR 40(6)" → "《招标投标法实施条例》 40(6)"; a basis already in words stays as it is. */
export function lawText(basis: string): string {
  return LAWS.reduce((s, [re, name]) => s.replace(re, name), basis);
}

export const ACTION_LABELS: Record<string, string> = {
  'alert.disposed': '处置预警',
  'audit.checkpoint': '签署审计检查点',
  'auth.login': '登录',
  'auth.login.refused': '登录被拒',
  'auth.logout': '退出登录',
  'bank.notification-refused': '拒收银行通知',
  'bid.refused': '投标被拒',
  'bid.submit': '递交投标文件',
  'bid.upload.abort': '中止上传投标文件',
  'bid.upload.start': '开始上传投标文件',
  'bid.uploads.expire': '上传超时作废',
  'bid.withdraw': '撤回投标文件',
  'certificate.issue': '签发证书',
  'certificate.revoke': '吊销证书',
  'certificate.enrol.refused': '证书注册被拒',
  'custody.create': '设立密钥保管',
  'custody.early-access': '提前取密钥分片',
  'custody.share.fetch': '取得密钥分片',
  'custody.share.release': '释放密钥分片',
  'deposit.account-open': '开立保证金子账户',
  'deposit.credit': '保证金到账',
  'deposit.payers.view': '查看缴纳人名单',
  'deposit.reconcile': '银行对账',
  'deposit.release': '释放保证金',
  'deposit.refund.send': '发起保证金退款',
  'deposit.refund.paid': '保证金已退还',
  'deposit.refund.failed': '保证金退款失败',
  'deposit.refund.fallback': '退至基本账户',
  'monitoring.alert': '监测预警',
  'opening.custodian-opened': '保管人开启',
  'opening.decrypted': '投标文件解密',
  'opening.early-key': '提前提交解密密钥',
  'organisation.create': '登记单位',
  'tender.clarify': '澄清修改',
  'tender.create': '新建项目',
  'tender.document.download': '下载招标文件',
  'tender.document.upload': '上传招标文件',
  'tender.publish': '发布公告',
  'tender.seal': '投标截止封存',
  'tender.terminate': '终止项目',
  'tender.update': '修改项目',
  'user.create': '新增用户',
};

export const actionText = (a: string) => (ACTION_LABELS[a] ? `${ACTION_LABELS[a]}（${a}）` : a);

export { ORG_TYPE_LABELS } from '../lib/session';

/** Evidence field names as words (unknown ones show as the API names them). */
export const FIELD_LABELS: Record<string, string> = {
  txnId: '银行流水号',
  payerAccountNo: '付款账号',
  payerAccountName: '付款户名',
  virtualAccountNo: '保证金子账户',
  sharedWith: '同一账户付款的其他到账',
  bidderOrgId: '投标人',
  bidderOrgIds: '涉及投标人',
  subjectOrgIds: '涉及单位',
  orgIds: '涉及单位',
  bidId: '投标文件',
  refundId: '退款',
  failureCode: '失败代码',
  reason: '原因',
  attempted: '试图操作',
  state: '当时状态',
  account: '账户',
  failures: '失败次数',
  addresses: '网络地址',
  codes: '拒绝代码',
  kind: '类型',
  machineFingerprint: '机器码',
  date: '日期',
  ids: '记录',
  clientIp: '网络地址',
  deviceFingerprint: '设备指纹',
  amountFen: '金额',
  findings: '检查发现',
  sectionId: '标段',
  bookedAt: '入账时间',
  source: '来源',
};
