/** Every monitoring rule the engine runs. A new rule: one file exporting `defineRule({...})`, one line here. */
import type { Rule } from './rule';
import sharedAddress from './shared-address';
import payerListEarly from './payer-list-early';
import staffOffHours from './staff-off-hours';
import loginFailures from './login-failures';
import habitualCoBidders from './habitual-co-bidders';
import winRate from './win-rate';
import sameLegalRepresentative from './same-legal-representative';
import sameBidTool from './same-bid-tool';
import sameProjectManager from './same-project-manager';
import similarBids from './similar-bids';
import regularPrices from './regular-prices';

export const RULES: readonly Rule<any>[] = [sharedAddress, payerListEarly, staffOffHours, loginFailures, habitualCoBidders, winRate, sameLegalRepresentative, sameBidTool, sameProjectManager, regularPrices, similarBids];
