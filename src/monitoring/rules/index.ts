/** Every monitoring rule the engine runs. A new rule: one file exporting `defineRule({...})`, one line here. */
import type { Rule } from './rule';
import sharedAddress from './shared-address';

export const RULES: readonly Rule<any>[] = [sharedAddress];
