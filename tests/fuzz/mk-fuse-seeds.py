#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mk-fuse-seeds.py OUTDIR: request sequences for fuzz_fuse (format in
# fuzz_fuse.c) that a kernel would send over the template image.
import os, struct, sys

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

def rec(op, node, payload=b''):
    if node >= 255:
        return bytes([0, op, 255]) + struct.pack('<Q', node) + struct.pack('<H', len(payload)) + payload
    return bytes([0, op, node]) + struct.pack('<H', len(payload)) + payload

LOOKUP, FORGET, GETATTR, READLINK, OPEN, READ, STATFS, RELEASE = 1, 2, 3, 5, 14, 15, 17, 18
GETXATTR, LISTXATTR, FLUSH, OPENDIR, READDIR, RELEASEDIR = 22, 23, 25, 27, 28, 29
ACCESS, INTERRUPT, DESTROY, BATCH_FORGET, READDIRPLUS, LSEEK, STATX = 34, 36, 38, 42, 44, 46, 52
MKDIR = 9

def ring(head, record):
    return bytes([2, head]) + record[1:]

def read_in(off, size):
    return struct.pack('<QQIIQII', 0, off, size, 0, 0, 0, 0)

def lookup(parent, name):
    return rec(LOOKUP, parent, name.encode() + b'\0')

# inode numbers in the template (mk-template.sh)
LIN, FRAG, HTREE, MEDIUM, SMALL, FASTLINK, SLOWLINK = 76, 14, 15, 89, 91, 12, 90
seeds = {
    'readdir-root': rec(OPENDIR, 1, struct.pack('<II', 0, 0)) +
        rec(READDIR, 1, read_in(0, 4096)) + rec(READDIRPLUS, 1, read_in(0, 4096)) +
        rec(RELEASEDIR, 1, struct.pack('<QIIQ', 0, 0, 0, 0)),
    'lookup-read': lookup(1, 'frag') + rec(GETATTR, FRAG, struct.pack('<IIQ', 0, 0, 0)) +
        rec(OPEN, FRAG, struct.pack('<II', 0, 0)) + rec(READ, FRAG, read_in(0, 65536)) +
        rec(LSEEK, FRAG, struct.pack('<QQII', 0, 1, 3, 0)) + rec(LSEEK, FRAG, struct.pack('<QQII', 0, 0, 4, 0)) +
        rec(FORGET, FRAG, struct.pack('<Q', 1)),
    'htree': lookup(1, 'htree') + lookup(HTREE, 'name-007-' + '0' * 55) +
        rec(READDIRPLUS, HTREE, read_in(0, 8192)) + rec(BATCH_FORGET, 1, struct.pack('<II', 1, 0) + struct.pack('<QQ', HTREE, 1)),
    'xattr': lookup(1, 'medium') + rec(LISTXATTR, MEDIUM, struct.pack('<II', 4096, 0)) +
        rec(GETXATTR, MEDIUM, struct.pack('<II', 0, 0) + b'user.big\0') +
        rec(GETXATTR, MEDIUM, struct.pack('<II', 4096, 0) + b'user.big\0') +
        lookup(1, 'small') + rec(GETXATTR, SMALL, struct.pack('<II', 64, 0) + b'user.small\0') +
        rec(READ, SMALL, read_in(0, 100)),
    'links': lookup(1, 'fastlink') + rec(READLINK, FASTLINK) + lookup(1, 'slowlink') + rec(READLINK, SLOWLINK) +
        rec(STATFS, 1) + rec(ACCESS, 1, struct.pack('<II', 4, 0)) + rec(STATX, 1, struct.pack('<IIQII', 0, 0, 0, 0, 0xfff)),
    'lin': lookup(1, 'lin') + lookup(LIN, 'f3') + rec(OPENDIR, LIN, struct.pack('<II', 0, 0)) +
        rec(READDIR, LIN, read_in(0, 200)) + rec(READDIR, LIN, read_in(5, 200)) +
        rec(MKDIR, LIN, struct.pack('<II', 0o755, 0) + b'new\0') + rec(INTERRUPT, 1, struct.pack('<Q', 5)) +
        rec(DESTROY, 1),
    # FUSE over io_uring: the same requests split as a ring entry splits
    # them (kind 2: op_in length, then a record), and a raw header buffer
    # (kind 3) whose payload_sz says more than its in_header.len
    'ring': ring(0, lookup(1, 'lin')) + ring(8, rec(OPEN, LIN, struct.pack('<II', 0, 0))) +
        ring(40, rec(READDIRPLUS, LIN, read_in(0, 4096))) +
        ring(8, lookup(1, 'medium')) +
        ring(8, rec(GETXATTR, MEDIUM, struct.pack('<II', 4096, 0) + b'user.big\0')) +
        ring(0, rec(STATFS, 1)) + ring(3, lookup(1, 'small')) +
        bytes([3]) + struct.pack('<H', 288 + 4) +
        struct.pack('<IIQQIIII', 44, LOOKUP, 99, 1, 0, 0, 0, 0) + bytes(88) + bytes(128) +
        struct.pack('<QQIIQ', 0, 99, 400, 0, 0) + b'lin\0',
    'raw-header': bytes([1]) + struct.pack('<H', 40) + struct.pack('<IIQQIIII', 40, STATFS, 77, 1, 0, 0, 0, 0),
}
for name, data in seeds.items():
    with open(os.path.join(out, 'fuse-' + name), 'wb') as f:
        f.write(data)
