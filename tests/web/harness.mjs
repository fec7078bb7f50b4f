// The world the browser tests run in: a private redis-server on a Unix
// socket in a temp dir, the broker on a free loopback port (plaintext
// development mode, on the testing clock), the sample catalogue loaded with
// slussctl, and the gateway slussen-web serving clients/web/static. All are
// stopped, and the temp dir removed, by stop(), pass or fail.
//
// Binaries come from SLUSSEN_BIN, SLUSSCTL_BIN and SLUSSEN_GATEWAY_BIN (set by
// CTest), else from build/ under SLUSSEN_SOURCE_DIR (else the repository
// this file is in).

import {spawn, execFile} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {promisify} from 'node:util';

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));

export const SOURCE_DIR = process.env.SLUSSEN_SOURCE_DIR || path.resolve(here, '..', '..');
export const BIN = {
  slussen: process.env.SLUSSEN_BIN || path.join(SOURCE_DIR, 'build', 'slussen'),
  slussctl: process.env.SLUSSCTL_BIN || path.join(SOURCE_DIR, 'build', 'slussctl'),
  web: process.env.SLUSSEN_GATEWAY_BIN || path.join(SOURCE_DIR, 'build', 'slussen-web'),
};
export const ARTIFACTS = process.env.SLUSSEN_TEST_ARTIFACTS ||
  path.join(SOURCE_DIR, 'build', 'web-screenshots');
export const CHROMIUM = process.env.SLUSSEN_CHROMIUM || '/usr/bin/chromium';

// The children get flags only: the binaries also read SLUSSEN_* and
// SLUSSEN_WEB_* variables (a developer's SLUSSEN_CERTS would switch slussctl
// to TLS), and slussen-web refuses a SLUSSEN_WEB_ one it does not know.
const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLUSSEN_')));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// What is missing to run at all, in words that say how to get it; empty
// when everything is there.
export function missingPrerequisites() {
  const missing = [];
  for (const [name, file] of Object.entries(BIN)) {
    if (!fs.existsSync(file)) {
      missing.push(`${name} binary ${file} (build it: cmake --build build --target slussen slussctl slussen-web)`);
    }
  }
  if (!fs.existsSync(CHROMIUM)) missing.push(`${CHROMIUM} (apt-get install chromium)`);
  if (!fs.existsSync(path.join(here, 'node_modules', 'playwright-core')) ||
      !fs.existsSync(path.join(here, 'node_modules', 'axe-core'))) {
    missing.push('tests/web/node_modules (run `npm ci --prefix tests/web`)');
  }
  return missing;
}

// A loopback port nothing listens on now.
async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address();
      server.close(() => resolve(port));
    });
  });
}

export class World {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'slussen-web-test-'));
    this.children = [];
    this.logs = {};
  }

  start(name, file, args) {
    const log = path.join(this.dir, `${name}.log`);
    const out = fs.openSync(log, 'a');
    const child = spawn(file, args, {stdio: ['ignore', out, out], cwd: SOURCE_DIR, env: CHILD_ENV});
    fs.closeSync(out);
    child.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})));
    this.children.push(child);
    this.logs[name] = log;
    return child;
  }

  tail(name, lines = 15) {
    try {
      return fs.readFileSync(this.logs[name], 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '';
    }
  }

  // Polls `probe` until it is true; fails with `name`'s log if the child
  // exits or time runs out.
  async waitFor(name, child, probe, seconds = 20) {
    const until = Date.now() + seconds * 1000;
    let exited = false;
    child.exited.then(() => {
      exited = true;
    });
    while (Date.now() < until) {
      if (exited) throw new Error(`${name} exited while starting:\n${this.tail(name)}`);
      if (await probe().catch(() => false)) return;
      await sleep(100);
    }
    throw new Error(`${name} did not become ready in ${seconds} s:\n${this.tail(name)}`);
  }

  async up() {
    // Redis: sessions of the gateway and the broker's state.
    const redisDir = path.join(this.dir, 'redis');
    fs.mkdirSync(redisDir);
    this.redisSocket = path.join(redisDir, 'redis.sock');
    const redis = this.start('redis', 'redis-server', ['--port', '0', '--unixsocket', this.redisSocket,
      '--dir', redisDir, '--save', '', '--appendonly', 'no', '--daemonize', 'no']);
    await this.waitFor('redis', redis, async () =>
      (await run('redis-cli', ['-s', this.redisSocket, 'ping'])).stdout.trim() === 'PONG');

    // The broker, on the testing clock from now (whole seconds).
    const keyFile = path.join(this.dir, 'pnr.key');
    fs.writeFileSync(keyFile, [...crypto.getRandomValues(new Uint8Array(32))]
      .map((b) => b.toString(16).padStart(2, '0')).join(''), {mode: 0o600});
    this.clock = new Date(Math.floor(Date.now() / 1000) * 1000);
    this.brokerPort = await freePort();
    const broker = this.start('broker', BIN.slussen, [`--listen=127.0.0.1:${this.brokerPort}`,
      `--redis=unix:${this.redisSocket}`, `--pnr_key_file=${keyFile}`,
      `--testing_clock_start=${this.clock.toISOString()}`]);
    await this.waitFor('broker', broker, async () => {
      await run(BIN.slussctl, [`--server=127.0.0.1:${this.brokerPort}`, '--timeout=1', 'health'],
        {env: CHILD_ENV});
      return true;
    });
    const catalog = fs.readdirSync(path.join(SOURCE_DIR, 'providers', 'catalog'))
      .filter((f) => f.endsWith('.textproto')).sort()
      .map((f) => path.join(SOURCE_DIR, 'providers', 'catalog', f));
    await run(BIN.slussctl, [`--server=127.0.0.1:${this.brokerPort}`, '--org=slussen-admin',
      '--role=admin', 'catalog', 'apply', ...catalog], {env: CHILD_ENV});

    // The gateway.
    this.webPort = await freePort();
    this.base = `http://127.0.0.1:${this.webPort}`;
    const web = this.start('web', BIN.web, [`--listen=127.0.0.1:${this.webPort}`,
      `--brokers=127.0.0.1:${this.brokerPort}`, `--redis=unix:${this.redisSocket}`,
      `--static_dir=${path.join(SOURCE_DIR, 'clients', 'web', 'static')}`, '--sign_in=development',
      `--users_file=${path.join(SOURCE_DIR, 'clients', 'web', 'dev-users.txt')}`]);
    await this.waitFor('web', web, async () =>
      (await fetch(`${this.base}/v1/sign-in/identities`)).ok);
  }

  // A signed-in HTTP session for calls the test makes itself (not the
  // browser): {call(service, method, body)}.
  async apiAs(key) {
    const response = await fetch(`${this.base}/v1/sign-in`, {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({key})});
    if (!response.ok) throw new Error(`sign-in as ${key}: ${response.status} ${await response.text()}`);
    const session = await response.json();
    const cookie = (response.headers.get('set-cookie') || '').split(';')[0];
    const base = this.base;
    return {
      session,
      async call(service, method, body) {
        const r = await fetch(`${base}/slussen.v1.${service}/${method}`, {method: 'POST',
          headers: {'Content-Type': 'application/json', 'X-CSRF-Token': session.csrfToken, Cookie: cookie},
          body: JSON.stringify(body)});
        const text = await r.text();
        return {status: r.status, body: text ? JSON.parse(text) : {}};
      },
    };
  }

  // Moves the broker's testing clock forward by `ms` and fires the
  // deadlines due.
  async advanceClock(admin, ms) {
    this.clock = new Date(this.clock.getTime() + ms);
    const answer = await admin.call('TestingService', 'SetTime', {time: this.clock.toISOString()});
    if (answer.status !== 200) throw new Error(`SetTime: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  }

  async stop() {
    for (const child of [...this.children].reverse()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const done = await Promise.race([child.exited, sleep(5000).then(() => null)]);
      if (!done) {
        child.kill('SIGKILL');
        await child.exited;
      }
    }
    fs.rmSync(this.dir, {recursive: true, force: true});
  }
}
