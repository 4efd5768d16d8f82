#!/usr/bin/env node
// `npx bidtool` / the installed `bidtool` command: registers the TypeScript loader that ships with the package
// (resolved from here, not from the caller's directory), then runs the tool.
import { register } from 'tsx/esm/api';

register();
const { runBidtool } = await import('./bidtool.ts');
process.exitCode = await runBidtool(process.argv.slice(2));
