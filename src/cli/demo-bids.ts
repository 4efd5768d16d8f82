/**
 * The demo bidders' technical proposals (施工组织设计): each written in its own words from a stock of phrases, so that
 * ordinary bids share vocabulary but not passages — and one proposal copied from another with a few words changed,
 * which the similarity rule must find (TLR 40(4) 异常一致).
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../shared/seeded-random';

const OPENINGS = ['本工程', '我单位', '项目部', '施工单位', '本标段', '项目经理部'];
const SUBJECTS = [
  '基础工程采用钻孔灌注桩，桩长按地质勘察报告确定',
  '主体结构为钢筋混凝土框架结构，模板采用覆膜多层板',
  '混凝土采用商品混凝土，泵送浇筑，分层振捣密实',
  '钢筋在现场加工棚集中加工，直螺纹机械连接',
  '脚手架采用盘扣式钢管脚手架，外挂密目安全网',
  '屋面防水采用两道SBS改性沥青防水卷材',
  '砌体工程采用蒸压加气混凝土砌块，专用砂浆砌筑',
  '塔吊布置于建筑北侧，覆盖全部作业面',
  '冬期施工采用综合蓄热法，混凝土掺加防冻剂',
  '雨期施工设置排水沟与集水井，基坑周边设挡水墙',
  '安全文明施工按标准化工地要求布置，围挡连续封闭',
  '扬尘治理落实六个百分之百要求，裸土全部覆盖',
  '质量管理实行三检制，隐蔽工程验收合格后方可覆盖',
  '进度计划采用网络计划技术，关键线路重点控制',
  '劳动力按施工阶段动态调配，高峰期投入二百二十人',
  '材料进场先检验后使用，见证取样送检',
  '机电安装与土建交叉作业，预留预埋随主体同步进行',
  '装饰装修样板先行，经监理与建设单位确认后大面积施工',
];
const PURPOSES = ['确保工程质量一次验收合格', '保证总工期按期完成', '杜绝重大安全事故', '满足绿色施工要求', '减少对周边居民的影响', '控制工程成本'];
const LINKS = ['，', '；同时，', '，并且', '，为此', '。此外，'];

const pick = <T>(r: () => number, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;

/** About `paragraphs` paragraphs of a technical proposal in the bidder's own words. */
export function technicalProposal(bidderName: string, seed: number, paragraphs = 60): string {
  const r = seededRandom(seed);
  const lines = [`${bidderName} 施工组织设计（技术标）`, ''];
  for (let i = 1; i <= paragraphs; i++) {
    const sentences = 3 + Math.floor(r() * 3);
    let p = `${i}. `;
    for (let s = 0; s < sentences; s++) {
      p += `${pick(r, OPENINGS)}${pick(r, SUBJECTS)}${pick(r, LINKS)}${pick(r, PURPOSES)}，第${1 + Math.floor(r() * 40)}周完成，投入${2 + Math.floor(r() * 30)}台（套）机械设备。`;
    }
    lines.push(p);
  }
  return lines.join('\n') + '\n';
}

/** Another bidder's proposal with its name put in and a few words changed: what a copied bid looks like. */
export function copiedProposal(original: string, fromName: string, toName: string): string {
  return original.replaceAll(fromName, toName).replaceAll('确保工程质量一次验收合格', '确保工程质量一次性验收合格').replace('二百二十人', '二百三十人');
}

/** The bidders' proposals: each its own, but the second bidder's copied from the first's. */
export function demoProposals(names: string[]): string[] {
  const own = names.map((name, i) => technicalProposal(name, 1000 + i));
  return own.map((text, i) => (i === 1 ? copiedProposal(own[0]!, names[0]!, names[1]!) : text));
}

/** A machine code (64 hex) per demo bidder; the first and third bidders' bids were made on one machine. */
export function demoMachineCode(index: number): string {
  const machine = index === 2 ? 0 : index;
  return createHash('sha256').update(`gz-demo-machine-${machine}`).digest('hex');
}
