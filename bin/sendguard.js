#!/usr/bin/env node
// Runs the TypeScript sources directly (no build step needed to start).
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
