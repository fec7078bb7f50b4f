#!/usr/bin/env python3
"""Redis's own CPU for a create's change script (script_cost.sh runs it).

Usage: script_cost.py SOCKET TEMPLATE CALLS SCRIPT|--calls N

Replays a create's call of the change script (TEMPLATE, as
capture_create_call in bench_lib.sh writes it) N times against the Redis
at SOCKET, each time with a fresh referral id in place of the captured
one, 16 calls pipelined, and prints Redis's CPU (user + system, INFO cpu)
per create. With --calls instead of SCRIPT it runs a script that makes the
Redis commands the change script made for that create (CALLS), written
out one after another: the cost of the commands themselves, the floor of
any script that makes them.
"""
import os
import random
import socket
import sys

PIPELINED = 16
WARMUP = 200
ALPHABET = b'0123456789ABCDEFGHJKMNPQRSTVWXYZ'  # Crockford's base 32


class Redis:
    """The least RESP client: commands out, replies in."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.file = self.sock.makefile('rb')

    @staticmethod
    def encode(args):
        out = [b'*%d\r\n' % len(args)]
        for arg in args:
            if isinstance(arg, str):
                arg = arg.encode()
            out.append(b'$%d\r\n%s\r\n' % (len(arg), arg))
        return b''.join(out)

    def send(self, commands):
        self.sock.sendall(b''.join(self.encode(c) for c in commands))

    def read(self):
        line = self.file.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b'+':
            return rest
        if kind == b'-':
            raise RuntimeError(rest.decode(errors='replace'))
        if kind == b':':
            return int(rest)
        if kind == b'$':
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b'*':
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError(f'unexpected reply {line!r}')

    def __call__(self, *args):
        self.send([args])
        return self.read()


def read_items(data, pos):
    """One length-prefixed item of a template: (bytes, next position)."""
    end = data.index(b'\n', pos)
    n = int(data[pos:end])
    return data[end + 1:end + 1 + n], end + 2 + n


def read_template(path):
    data = open(path, 'rb').read()
    end = data.index(b'\n')
    referral_id, pos, args = data[:end], end + 1, []
    while pos < len(data):
        arg, pos = read_items(data, pos)
        args.append(arg)
    return referral_id, args


def read_calls(path):
    data, pos, calls = open(path, 'rb').read(), 0, []
    while pos < len(data):
        end = data.index(b'\n', pos)
        count, pos = int(data[pos:end]), end + 1
        call = []
        for _ in range(count):
            arg, pos = read_items(data, pos)
            call.append(arg)
        calls.append(call)
    return calls


def lua_string(value, referral_id):
    """A Lua expression for `value`, the referral id in it taken from `id`."""
    def quoted(part):
        return "'" + ''.join(chr(c) if 32 <= c < 127 and c not in (39, 92)
                             else '\\%03d' % c for c in part) + "'"
    return ' .. id .. '.join(quoted(p) for p in value.split(referral_id))


def calls_script(calls, referral_id):
    lines = ['local id = string.sub(KEYS[1], -%d)' % len(referral_id)]
    for call in calls:
        lines.append('redis.call(' + ', '.join(lua_string(a, referral_id)
                                               for a in call) + ')')
    lines.append('return {{1, 0}}')
    return '\n'.join(lines).encode()


def cpu_seconds(redis):
    info = dict(line.split(':', 1) for line in
                redis('INFO', 'cpu').decode().splitlines() if ':' in line)
    return float(info['used_cpu_user']) + float(info['used_cpu_sys'])


def main():
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    sock, template, calls_path, script = sys.argv[1:]
    n = int(os.environ.get('CREATES', '20000'))
    referral_id, args = read_template(template)
    redis = Redis(sock)
    source = (calls_script(read_calls(calls_path), referral_id)
              if script == '--calls' else open(script, 'rb').read())
    sha = redis('SCRIPT', 'LOAD', source)

    def fresh():
        new_id = referral_id[:3] + bytes(
            random.choice(ALPHABET) for _ in range(len(referral_id) - 3))
        return [b'EVALSHA', sha] + [a.replace(referral_id, new_id)
                                    for a in args]

    for _ in range(WARMUP):
        redis(*fresh())
    before = cpu_seconds(redis)
    done = 0
    while done < n:
        batch = min(PIPELINED, n - done)
        redis.send([fresh() for _ in range(batch)])
        for _ in range(batch):
            reply = redis.read()
            if not isinstance(reply, list) or reply[0][0] != 1:
                sys.exit(f'a create was not written: {reply!r:.300}')
        done += batch
    print(f'{(cpu_seconds(redis) - before) / n * 1e6:.1f}')


if __name__ == '__main__':
    main()
