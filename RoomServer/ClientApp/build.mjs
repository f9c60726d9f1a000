// Builds the web client into RoomServer/wwwroot (the whole folder is build output, git-ignored):
// the pages and ES modules from src/, plus the official SignalR browser build from node_modules.
// No bundler: the modules are served as they are, so what the unit tests import is what ships.

import { cp, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'wwwroot');
const signalr = join(here, 'node_modules', '@microsoft', 'signalr', 'dist', 'browser');

async function exists(path) {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

if (!(await exists(join(signalr, 'signalr.min.js')))) {
  console.error('build: node_modules/@microsoft/signalr is missing; run `npm ci` in RoomServer/ClientApp first.');
  process.exit(1);
}

await rm(out, { recursive: true, force: true });
await mkdir(join(out, 'lib'), { recursive: true });
await cp(join(here, 'src'), out, { recursive: true });
await cp(join(signalr, 'signalr.min.js'), join(out, 'lib', 'signalr.min.js'));
await cp(join(signalr, 'signalr.min.js.map'), join(out, 'lib', 'signalr.min.js.map'));
console.log(`build: web client written to ${out}`);
