#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mount-walk.py MOUNTPOINT: walk a mounted file system the way a user's
# tools do (readdir, lstat, read every byte, readlink, list and get every
# xattr), never following symlinks; print "entries=N errors=M (paths)": M
# paths gave an error, the first three are named (all of them on stderr).
import errno, os, sys

root = sys.argv[1]
entries = 0
bad = set()

def fail(path, what, e):
    bad.add(path)
    rel = os.path.relpath(path, root)
    print(f"  {rel}: {what}: {errno.errorcode.get(e.errno, e.errno)}", file=sys.stderr)

def xattrs(path):
    try:
        names = os.listxattr(path, follow_symlinks=False)
    except OSError as e:
        if e.errno != errno.ENOTSUP:
            fail(path, 'listxattr', e)
        return
    for n in names:
        try:
            os.getxattr(path, n, follow_symlinks=False)
        except OSError as e:
            fail(path, 'getxattr ' + n, e)

stack = [root]
seen_dirs = 0
while stack:
    d = stack.pop()
    seen_dirs += 1
    # the entries before a readdir error are walked, as ls and cp do
    names = []
    try:
        with os.scandir(d) as it:
            for ent in it:
                names.append(ent.name)
    except OSError as e:
        fail(d, 'readdir', e)
    names.sort()
    for name in names:
        p = os.path.join(d, name)
        entries += 1
        try:
            st = os.lstat(p)
        except OSError as e:
            fail(p, 'lstat', e)
            continue
        xattrs(p)
        mode = st.st_mode
        if os.path.stat.S_ISDIR(mode):
            stack.append(p)
        elif os.path.stat.S_ISLNK(mode):
            try:
                os.readlink(p)
            except OSError as e:
                fail(p, 'readlink', e)
        elif os.path.stat.S_ISREG(mode):
            try:
                with open(p, 'rb', buffering=0) as f:
                    while f.read(1 << 20):
                        pass
            except OSError as e:
                fail(p, 'read', e)
xattrs(root)
def shown(p):
    rel = '/' + os.path.relpath(p, root).lstrip('.')
    return ''.join(c if c.isprintable() and c != ',' else '?' for c in rel)[:47]

names = sorted(shown(p) for p in bad)
more = ', ...' if len(names) > 3 else ''
print(f"entries={entries} errors={len(bad)}" +
      (f" ({', '.join(names[:3])}{more})" if names else ''))
