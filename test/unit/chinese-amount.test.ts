import assert from 'node:assert/strict';
import { toChineseCapital } from '../../src/shared/chinese-amount';

/** [amount in fen, 大写金额]. The yuan amount is in the comment where it helps. */
const CASES: Array<[number, string]> = [
  // from the brief
  [120_000_000_00, '壹亿贰仟万元整'], // 120,000,000.00
  [1_200_000_00, '壹佰贰拾万元整'], // 1,200,000.00
  [100_000_050, '壹佰万元零伍角'], // 1,000,000.50
  [10_001, '壹佰元零壹分'], // 100.01
  [0, '零元整'],
  [1_000_000_100, '壹仟万零壹元整'], // 10,000,001.00
  [1_000_520, '壹万零伍元贰角'], // 10,005.20
  [100_000_000_00, '壹亿元整'], // 100,000,000.00
  [101_000_00, '壹拾万壹仟元整'], // 101,000.00
  [1_010_01, '壹仟零壹拾元零壹分'], // 1,010.01
  // examples of the PBOC rules for filling in vouchers
  [1_680_32, '壹仟陆佰捌拾元零叁角贰分'], // 1,680.32 (元位 0, 角 not 0)
  [16_409_02, '壹万陆仟肆佰零玖元零贰分'], // 16,409.02 (角位 0, 分 not 0)
  [107_000_53, '壹拾万柒仟元零伍角叁分'], // 107,000.53
  [1_409_50, '壹仟肆佰零玖元伍角'], // 1,409.50 (no 整 after 角)
  [6_007_14, '陆仟零柒元壹角肆分'], // 6,007.14
  // under one yuan
  [50, '伍角'],
  [5, '伍分'],
  [15, '壹角伍分'],
  // small whole amounts; 10 is 壹拾
  [1_00, '壹元整'],
  [10_00, '壹拾元整'],
  [10_01, '壹拾元零壹分'],
  [10_50, '壹拾元零伍角'],
  [19_00, '壹拾玖元整'],
  // zeros inside and across the 万 and 亿 sections
  [100_000_00, '壹拾万元整'],
  [10_010_00, '壹万零壹拾元整'],
  [1_010_101_01, '壹佰零壹万零壹佰零壹元零壹分'],
  [100_010_000_00, '壹亿零壹万元整'],
  [100_000_001_00, '壹亿零壹元整'],
  [110_000_000_00, '壹亿壹仟万元整'],
  [1_234_567_890_12, '壹拾贰亿叁仟肆佰伍拾陆万柒仟捌佰玖拾元零壹角贰分'],
  [20_000_000_00, '贰仟万元整'],
  [3_500_000_00, '叁佰伍拾万元整'],
  [45_678_901_23, '肆仟伍佰陆拾柒万捌仟玖佰零壹元贰角叁分'],
  // 万亿
  [1_0000_0000_0000_00, '壹万亿元整'],
  [1_2345_6789_0123_00, '壹万贰仟叁佰肆拾伍亿陆仟柒佰捌拾玖万零壹佰贰拾叁元整'],
  [10_0000_0001_00, '壹拾亿零壹元整'],
];

describe('shared/chinese-amount toChineseCapital', function () {
  for (const [fen, expected] of CASES) {
    it(`when ${fen} fen is written in capitals, then it reads ${expected}`, function () {
      assert.equal(toChineseCapital(fen), expected);
    });
  }

  it('when the input is negative, fractional or not a safe integer, then it throws RangeError', function () {
    for (const bad of [-1, -100, 1.5, 0.1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assert.throws(() => toChineseCapital(bad), RangeError, String(bad));
    }
    assert.throws(() => toChineseCapital('100' as unknown as number), RangeError);
  });
});
