/** Deterministic construction-bid-like Chinese text for the similarity rule's tests. */
import { seededRandom } from '../../src/shared/seeded-random';

const WORDS = [
  '施工组织设计', '质量保证措施', '安全文明施工', '混凝土', '钢筋', '模板工程', '脚手架', '土方开挖', '基坑支护', '防水层',
  '项目经理部', '技术负责人', '监理单位', '建设单位', '分部分项工程', '隐蔽工程验收', '材料进场', '复试检验', '养护', '浇筑',
  '砌体', '抹灰', '屋面', '给排水', '电气安装', '消防', '通风空调', '竣工验收', '工期保证', '进度计划', '横道图', '网络图',
  '劳动力计划', '机械设备', '塔吊', '施工电梯', '临时用电', '临时设施', '环境保护', '扬尘治理', '噪声控制', '夜间施工',
  '冬季施工', '雨季施工', '测量放线', '沉降观测', '质量通病', '成品保护', '应急预案', '危险源辨识', '技术交底', '样板引路',
];

/** About `chars` characters of sentences of vocabulary words and figures. */
export function bidText(seed: number, chars: number): string {
  const r = seededRandom(seed);
  let out = '';
  while (out.length < chars) {
    const words = 4 + Math.floor(r() * 6);
    for (let i = 0; i < words; i++) out += WORDS[Math.floor(r() * WORDS.length)]! + (r() < 0.3 ? String(Math.floor(r() * 1000)) : '');
    out += r() < 0.2 ? '。\n' : '，';
  }
  return out;
}

/** The text with about `share` of its clauses rewritten (a copier's light edits). */
export function lightlyEdited(text: string, seed: number, share: number): string {
  const r = seededRandom(seed);
  return text
    .split('，')
    .map((s) => (r() < share ? bidText(seed * 7 + Math.floor(r() * 1e6), s.length) : s))
    .join('，');
}
