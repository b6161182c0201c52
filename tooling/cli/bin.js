#!/usr/bin/env node
// `npx order` (package.json "bin"): the terminal client, tooling/cli/order.ts, run through tsx as every entry point is.
import { register } from 'tsx/esm/api';

register();
await import('./order.ts');
