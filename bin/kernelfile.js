#!/usr/bin/env node
// The command's former path: the bin is bin/kernelfile.cjs now. npx keeps the bin link it made on a
// checkout's first `npx kernelfile` (in ~/.npm/_npx/), and that link names this file.
import { createRequire } from 'node:module';

createRequire(import.meta.url)('./kernelfile.cjs');
