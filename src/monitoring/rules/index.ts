/** Every monitoring rule the engine runs. A new rule: one file exporting `defineRule({...})`, one line here. */
import type { Rule } from './rule';
import sharedAddress from './shared-address';
import sameBidTool from './same-bid-tool';
import sameProjectManager from './same-project-manager';
import similarBids from './similar-bids';
import regularPrices from './regular-prices';

export const RULES: readonly Rule<any>[] = [sharedAddress, sameBidTool, sameProjectManager, similarBids, regularPrices];
