#!/usr/bin/env -S node --max-semi-space-size=32
// The package's `sluice` command: the CLI, compiled and run by the launcher, with the V8 flags
// of SERVER_NODE_FLAGS (src/index.ts).
import './launch.mjs';
