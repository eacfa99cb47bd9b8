#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Make DIR (empty, on a mounted ext4 with the encrypt feature) an
encrypted directory with a v2 policy: add a fixed test key to the file
system (FS_IOC_ADD_ENCRYPTION_KEY) and set the policy
(FS_IOC_SET_ENCRYPTION_POLICY); the key stays until the unmount.

    fscrypt_setup.py DIR
"""
import fcntl
import os
import struct
import sys

FS_IOC_ADD_ENCRYPTION_KEY = 0xC0506617
FS_IOC_SET_ENCRYPTION_POLICY = 0x800C6613
KEY_SPEC_TYPE_IDENTIFIER = 2
MODE_AES_256_XTS = 1
MODE_AES_256_CTS = 4
POLICY_FLAGS_PAD_32 = 0x03

raw = bytes(range(64))
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
# fscrypt_add_key_arg: key_spec (type, reserved, 32-byte union), raw_size,
# key_id, 8 reserved words, then the raw key
arg = bytearray(struct.pack("<II32sII32x", KEY_SPEC_TYPE_IDENTIFIER, 0,
                            b"", len(raw), 0) + raw)
fcntl.ioctl(fd, FS_IOC_ADD_ENCRYPTION_KEY, arg)
identifier = bytes(arg[8:24])
policy = struct.pack("<BBBB4x16s", 2, MODE_AES_256_XTS, MODE_AES_256_CTS,
                     POLICY_FLAGS_PAD_32, identifier)
fcntl.ioctl(fd, FS_IOC_SET_ENCRYPTION_POLICY, policy)
os.close(fd)
