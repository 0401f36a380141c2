#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx so the tool needs no build step.
import { register } from 'tsx/esm/api';
register();
await import('../src/cli.ts');
