/**
 * The tender calendar's rules of law, as pure functions of platform time. Days are counted on the Asia/Shanghai
 * calendar with the first day not counted (GP87 85).
 */
import { depositCapFen } from '../shared/money';
import { addShanghaiDays, shanghaiDayNumber, startOfShanghaiDay } from '../shared/time';

export type TenderType = 'construction' | 'procurement';

export interface TypeRules {
  /** Least days from issuing the documents to the bid deadline. */
  minDaysToDeadline: number;
  minDaysBasis: string;
  depositBasis: string;
  priceLabel: string;
}

export const TYPE_RULES: Record<TenderType, TypeRules> = {
  // TL 24: at least 20 days from the day the documents are issued to the deadline
  construction: { minDaysToDeadline: 20, minDaysBasis: 'TL 24', depositBasis: 'TLR 26', priceLabel: '估算价' },
  // GPL 35 / GP87 16: public tendering in procurement likewise allows at least 20 days
  procurement: { minDaysToDeadline: 20, minDaysBasis: 'GPL 35, GP87 16', depositBasis: 'GPR 33', priceLabel: '预算金额' },
};

/** Clarifications or amendments affecting bid preparation must come at least this many days before the deadline. */
export const CLARIFICATION_MIN_DAYS = 15;

/** The earliest allowed deadline: the start of the Shanghai day `minDays` after the day of issue. */
export function earliestDeadline(type: TenderType, documentsIssuedAt: Date): Date {
  return startOfShanghaiDay(shanghaiDayNumber(documentsIssuedAt) + TYPE_RULES[type].minDaysToDeadline);
}

export function deadlineAllowed(type: TenderType, documentsIssuedAt: Date, deadline: Date): boolean {
  return deadline.getTime() >= earliestDeadline(type, documentsIssuedAt).getTime();
}

export function depositAllowed(estimatedPriceFen: number, depositFen: number): boolean {
  return depositFen <= depositCapFen(estimatedPriceFen);
}

/**
 * TLR 21: a clarification that may affect bid preparation, issued fewer than 15 days before the deadline, postpones
 * the deadline so that 15 days remain. The new deadline keeps the old time of day (opening sessions are booked by
 * the hour). Returns the deadline that must apply (unchanged when 15 days remain).
 */
export function deadlineAfterClarification(deadline: Date, issuedAt: Date, affectsBidPreparation: boolean): Date {
  if (!affectsBidPreparation) return deadline;
  const daysLeft = shanghaiDayNumber(deadline) - shanghaiDayNumber(issuedAt);
  if (daysLeft >= CLARIFICATION_MIN_DAYS) return deadline;
  return addShanghaiDays(deadline, CLARIFICATION_MIN_DAYS - daysLeft);
}
