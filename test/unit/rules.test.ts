import assert from 'node:assert/strict';
import { creditCodeCheckChar, isValidCreditCode, withCheckChar } from '../../src/identity/credit-code';
import { hashSecret, verifySecret } from '../../src/identity/password';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../src/shared/clock';
import { depositCapFen, formatYuan } from '../../src/shared/money';
import { formatShanghai, shanghaiDate, shanghaiDayNumber, startOfShanghaiDay } from '../../src/shared/time';
import {
  CLARIFICATION_MIN_DAYS,
  deadlineAfterClarification,
  deadlineAllowed,
  depositAllowed,
  earliestDeadline,
  TYPE_RULES,
} from '../../src/tenders/tenders.rules';

/** An instant given as Shanghai wall-clock time (UTC+8, no daylight saving). */
function shanghai(local: string): Date {
  return new Date(`${local}:00+08:00`);
}

/** `YYYY-MM-DD HH:mm` in Asia/Shanghai through ICU's time-zone data, independent of src/shared/time.ts. */
const icuParts = new Intl.DateTimeFormat('en-US', {
  timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
});
const icu = {
  format(at: Date): string {
    const p = Object.fromEntries(icuParts.formatToParts(at).map((x) => [x.type, x.value]));
    return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
  },
};

describe('rules: tender calendar, deposits, money, Shanghai time, credit codes, secrets', function () {
  describe('earliestDeadline (TL 24: 20 days, the day of issue not counted)', function () {
    it('when the documents are issued 2026-11-23 09:00 Shanghai, then the earliest deadline is 2026-12-13 00:00 Shanghai', function () {
      const earliest = earliestDeadline('construction', shanghai('2026-11-23 09:00'));
      assert.equal(earliest.toISOString(), '2026-12-12T16:00:00.000Z');
      assert.equal(formatShanghai(earliest), '2026-12-13 00:00');
    });

    it('when the documents are issued at 23:59 Shanghai, then it is still that day + 20', function () {
      const earliest = earliestDeadline('construction', shanghai('2026-11-23 23:59'));
      assert.equal(formatShanghai(earliest), '2026-12-13 00:00');
    });

    it('when the documents are issued at 00:30 Shanghai (16:30 UTC the previous UTC day), then the Shanghai date counts', function () {
      const issued = new Date('2026-11-23T16:30:00Z');
      assert.equal(formatShanghai(issued), '2026-11-24 00:30');
      const earliest = earliestDeadline('construction', issued);
      assert.equal(formatShanghai(earliest), '2026-12-14 00:00', 'from 24 November, not from the UTC date 23 November');
      assert.equal(earliest.toISOString(), '2026-12-13T16:00:00.000Z');
    });

    it('when the type is procurement, then the same 20 days apply', function () {
      assert.equal(TYPE_RULES.procurement.minDaysToDeadline, 20);
      assert.equal(
        earliestDeadline('procurement', shanghai('2026-11-23 09:00')).getTime(),
        earliestDeadline('construction', shanghai('2026-11-23 09:00')).getTime(),
      );
    });

    it('when a deadline is exactly the earliest, then it is allowed; one millisecond earlier, refused', function () {
      const issued = shanghai('2026-11-23 09:00');
      const earliest = earliestDeadline('construction', issued);
      assert.equal(deadlineAllowed('construction', issued, earliest), true);
      assert.equal(deadlineAllowed('construction', issued, new Date(earliest.getTime() - 1)), false);
      assert.equal(deadlineAllowed('construction', issued, shanghai('2026-12-12 23:59')), false, 'the 19th day is too early');
      assert.equal(deadlineAllowed('procurement', issued, shanghai('2026-12-13 09:00')), true);
    });
  });

  describe('deadlineAfterClarification (TLR 21: 15 days must remain)', function () {
    const issued = shanghai('2026-11-23 09:00');

    it('when 10 days are left and it affects bid preparation, then the deadline moves 5 days later at the same time of day', function () {
      const deadline = shanghai('2026-12-03 14:30');
      const after = deadlineAfterClarification(deadline, issued, true);
      assert.equal(formatShanghai(after), '2026-12-08 14:30');
      assert.equal(shanghaiDayNumber(after) - shanghaiDayNumber(issued), CLARIFICATION_MIN_DAYS);
    });

    it('when exactly 15 days are left, then the deadline is unchanged', function () {
      const deadline = shanghai('2026-12-08 09:00');
      assert.equal(deadlineAfterClarification(deadline, issued, true).getTime(), deadline.getTime());
    });

    it('when 14 days are left, then it moves by one day', function () {
      const deadline = shanghai('2026-12-07 10:00');
      assert.equal(formatShanghai(deadlineAfterClarification(deadline, issued, true)), '2026-12-08 10:00');
    });

    it('when the clarification does not affect bid preparation, then the deadline is unchanged however close', function () {
      for (const deadline of [shanghai('2026-11-23 17:00'), shanghai('2026-11-26 09:00'), shanghai('2026-12-03 09:00')]) {
        assert.equal(deadlineAfterClarification(deadline, issued, false).getTime(), deadline.getTime());
      }
    });

    it('when 0 days are left (the deadline is the same day), then it moves 15 days', function () {
      const deadline = shanghai('2026-11-23 17:00');
      assert.equal(formatShanghai(deadlineAfterClarification(deadline, issued, true)), '2026-12-08 17:00');
    });

    it('when issued at 23:30 Shanghai and the deadline is 00:30 the next Shanghai day (same UTC date), then 1 day counts as left', function () {
      const lateIssue = shanghai('2026-11-23 23:30');
      const deadline = shanghai('2026-11-24 00:30');
      assert.equal(shanghaiDate(lateIssue), '2026-11-23');
      assert.equal(lateIssue.toISOString().slice(0, 10), deadline.toISOString().slice(0, 10), 'the same UTC date');
      assert.equal(formatShanghai(deadlineAfterClarification(deadline, lateIssue, true)), '2026-12-08 00:30');
    });
  });

  describe('deposits (TLR 26, GPR 33: at most 2%)', function () {
    it('when the deposit is exactly 2%, then it is allowed; one fen more, refused', function () {
      assert.equal(depositCapFen(1_000_000_00), 2_000_000);
      assert.equal(depositAllowed(1_000_000_00, 2_000_000), true);
      assert.equal(depositAllowed(1_000_000_00, 2_000_001), false);
      assert.equal(depositAllowed(1_000_000_00, 0), true, 'no deposit is allowed');
    });

    it('when the price is not divisible by 50 fen, then the cap is rounded down to the fen', function () {
      assert.equal(depositCapFen(149), 2, '2.98 fen → 2');
      assert.equal(depositCapFen(49), 0);
      assert.equal(depositCapFen(1_000_049), 20_000, '20,000.98 fen → 20,000');
      assert.equal(depositAllowed(1_000_049, 20_000), true);
      assert.equal(depositAllowed(1_000_049, 20_001), false);
      assert.equal(depositCapFen(12_345_678_901), 246_913_578);
    });

    it('when compared with the database check (deposit × 50 ≤ price), then the cap is the largest deposit it accepts', function () {
      const prices = [1, 49, 50, 51, 99, 100, 149, 150, 12_345, 1_000_049, 999_999_999_999, 4_503_599_627_370_495];
      for (let p = 1; p <= 2_000; p++) prices.push(p);
      for (const price of prices) {
        const cap = depositCapFen(price);
        assert.ok(Number.isSafeInteger(cap), `cap of ${price} is an integer`);
        assert.ok(cap * 50 <= price, `cap ${cap} passes the database check for ${price}`);
        assert.ok((cap + 1) * 50 > price, `cap ${cap} is the largest the database accepts for ${price}`);
        assert.equal(depositAllowed(price, cap), true);
        assert.equal(depositAllowed(price, cap + 1), false);
      }
    });
  });

  describe('formatYuan', function () {
    it('when given fen, then yuan with thousands separators and two decimals', function () {
      assert.equal(formatYuan(0), '0.00');
      assert.equal(formatYuan(5), '0.05');
      assert.equal(formatYuan(100), '1.00');
      assert.equal(formatYuan(99_999), '999.99');
      assert.equal(formatYuan(100_000), '1,000.00');
      assert.equal(formatYuan(123_456_789), '1,234,567.89');
      assert.equal(formatYuan(1_200_000_000), '12,000,000.00');
      assert.equal(formatYuan(Number.MAX_SAFE_INTEGER), '90,071,992,547,409.91');
    });

    it('when the amount is negative, then a leading minus', function () {
      assert.equal(formatYuan(-5), '-0.05');
      assert.equal(formatYuan(-123_456_789), '-1,234,567.89');
    });

    it('when the amount is not a safe integer, then RangeError', function () {
      for (const bad of [0.5, 1.25, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER + 1]) {
        assert.throws(() => formatYuan(bad), RangeError, String(bad));
      }
    });
  });

  describe('Shanghai time', function () {
    it('when an instant is just before or after 16:00 UTC, then the Shanghai date changes at Shanghai midnight, not at UTC midnight', function () {
      const cases: Array<[string, string, string]> = [
        ['2026-11-23T15:59:59.999Z', '2026-11-23', '2026-11-23 23:59'],
        ['2026-11-23T16:00:00.000Z', '2026-11-24', '2026-11-24 00:00'],
        ['2026-11-23T23:59:59.999Z', '2026-11-24', '2026-11-24 07:59'],
        ['2026-11-24T00:00:00.000Z', '2026-11-24', '2026-11-24 08:00'],
        ['2026-12-31T16:00:00.000Z', '2027-01-01', '2027-01-01 00:00'],
        ['2028-02-28T16:00:00.000Z', '2028-02-29', '2028-02-29 00:00'],
      ];
      for (const [iso, date, local] of cases) {
        assert.equal(shanghaiDate(new Date(iso)), date, iso);
        assert.equal(formatShanghai(new Date(iso)), local, iso);
      }
    });

    it('when compared with ICU over two days in 7-minute steps, then formatShanghai agrees', function () {
      const from = Date.parse('2026-11-22T12:00:00Z');
      for (let t = from; t < from + 2 * DAY_MS; t += 7 * MINUTE_MS) {
        assert.equal(formatShanghai(new Date(t)), icu.format(new Date(t)), new Date(t).toISOString());
      }
    });

    it('when a day number is turned back into its start, then it is 00:00 Shanghai of that date', function () {
      const day = shanghaiDayNumber(new Date('2026-11-23T16:30:00Z'));
      const start = startOfShanghaiDay(day);
      assert.equal(formatShanghai(start), '2026-11-24 00:00');
      assert.equal(shanghaiDayNumber(start), day);
      assert.equal(shanghaiDayNumber(new Date(start.getTime() - 1)), day - 1);
      assert.equal(start.getTime() % HOUR_MS, 0);
    });
  });

  describe('isValidCreditCode (GB 32100-2015)', function () {
    const KNOWN = '91350100M000100Y43';

    it('when the check character is computed for a known code, then it matches, and the code is valid', function () {
      assert.equal(withCheckChar(KNOWN.slice(0, 17)), KNOWN);
      assert.equal(isValidCreditCode(KNOWN), true);
    });

    it('when the check character is wrong, then refused, for every other character of the alphabet', function () {
      const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
      let refused = 0;
      for (const c of alphabet) {
        if (c === KNOWN[17]) continue;
        assert.equal(isValidCreditCode(KNOWN.slice(0, 17) + c), false, c);
        refused++;
      }
      assert.equal(refused, 30);
    });

    it('when the code is lowercase, then refused', function () {
      assert.equal(isValidCreditCode(KNOWN.toLowerCase()), false);
      assert.equal(isValidCreditCode('91350100m000100Y43'), false);
    });

    it('when the code contains I, O, Z, S or V, then refused whatever the check character', function () {
      for (const letter of 'IOZSV') {
        const body = `${KNOWN.slice(0, 10)}${letter}${KNOWN.slice(11, 17)}`;
        for (const c of '0123456789ABCDEFGHJKLMNPQRTUWXY' + letter) {
          assert.equal(isValidCreditCode(body + c), false, `${body}${c}`);
        }
      }
    });

    it('when the length or the region digits are wrong, then refused even with a matching check character', function () {
      assert.equal(isValidCreditCode(KNOWN.slice(0, 17)), false);
      assert.equal(isValidCreditCode(`${KNOWN}0`), false);
      assert.equal(isValidCreditCode(''), false);
      assert.equal(isValidCreditCode(` ${KNOWN}`), false);
      assert.equal(isValidCreditCode(withCheckChar('91A50100M000100Y4')), false, 'positions 3–8 are the region code, digits');
    });

    it('when compared with the standard definition (weights 3^i mod 31), then the check character agrees for many bodies', function () {
      const alphabet = '0123456789ABCDEFGHJKLMNPQRTUWXY';
      const reference = (body: string) => {
        let sum = 0;
        let w = 1;
        for (const ch of body) {
          sum += alphabet.indexOf(ch) * w;
          w = (w * 3) % 31;
        }
        return alphabet[(31 - (sum % 31)) % 31];
      };
      let seed = 20261123;
      const next = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      for (let i = 0; i < 500; i++) {
        let body = '';
        for (let j = 0; j < 17; j++) body += j >= 2 && j < 8 ? String(next(10)) : alphabet[next(31)];
        assert.equal(creditCodeCheckChar(body), reference(body), body);
        assert.equal(isValidCreditCode(body + reference(body)), true, body);
      }
    });
  });

  describe('hashSecret / verifySecret', function () {
    it('when a secret is hashed, then it verifies, in the stored scrypt format with a fresh salt each time', async function () {
      const a = await hashSecret('操作员密码-correct horse');
      const b = await hashSecret('操作员密码-correct horse');
      assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
      assert.notEqual(a, b, 'salted');
      assert.equal(await verifySecret('操作员密码-correct horse', a), true);
      assert.equal(await verifySecret('操作员密码-correct horse', b), true);
      assert.ok(!a.includes('correct horse'));
    });

    it('when the secret is wrong, then false', async function () {
      const stored = await hashSecret('right secret');
      assert.equal(await verifySecret('wrong secret', stored), false);
      assert.equal(await verifySecret('right secreT', stored), false);
      assert.equal(await verifySecret('', stored), false);
    });

    it('when the stored hash was tampered with, then false', async function () {
      const stored = await hashSecret('right secret');
      const parts = stored.split('$');
      const hash = Buffer.from(parts[5], 'base64');
      hash[0] ^= 1;
      parts[5] = hash.toString('base64');
      assert.equal(await verifySecret('right secret', parts.join('$')), false);
    });

    it('when the stored value is garbage or missing, then false, not an exception', async function () {
      const malformed = ['scrypt$a$b$c$d$e', 'scrypt$16384$8$1$c2FsdA==$', 'scrypt$16384$8$1$$', 'scrypt$3$8$1$c2FsdGVkc2FsdGVkc2FsdA==$aGFzaA=='];
      for (const stored of ['garbage', '', 'scrypt$1$2$3', 'bcrypt$16384$8$1$c2FsdA==$aGFzaA==', ...malformed, null, undefined]) {
        assert.equal(await verifySecret('anything', stored), false, String(stored));
      }
    });
  });
});
