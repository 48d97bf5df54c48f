#!/usr/bin/env node
// The installed `fence` command: runs the CLI.
import('../dist/bin.js');
