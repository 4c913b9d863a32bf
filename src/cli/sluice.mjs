#!/usr/bin/env node
// The package's `sluice` command: the CLI, compiled and run by the launcher.
import './launch.mjs';
