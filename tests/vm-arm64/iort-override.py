#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make the arm64 guest's IORT override: an IORT whose PCI root complexes say
CANWBS, packed for the kernel's ACPI table upgrade (CONFIG_ACPI_TABLE_UPGRADE).

    iort-override.py IORT.dat OUTDIR

IORT.dat is the table as QEMU built it, read in the guest from
/sys/firmware/acpi/tables/IORT.  OUTDIR receives:

  IORT.aml      the patched table
  override.cpio an uncompressed newc cpio holding kernel/firmware/acpi/IORT.aml,
                to be put first in the initrd

Why: IOMMU_VIOMMU_ALLOC on arm-smmu-v3 needs the SMMU's stage-2 forced
write-back (S2FWB) or a root complex that cannot write back unsnooped
(CANWBS); QEMU's SMMUv3 has no S2FWB and its IORT leaves CANWBS clear.

The patch (ACPI IORT, DEN0049, root complex node): every node of type 2 has
its memory access flags in the last byte of its memory access properties
(node offset + 16-byte node header + 7); bit 2 is CANWBS.  The kernel takes
an upgraded table only if signature, OEM ID and OEM table ID are the same
and the OEM revision is higher (drivers/acpi/tables.c), so the OEM revision
goes up by one and the checksum is recomputed.
"""
import os
import struct
import sys

IORT_NODE_PCI_ROOT_COMPLEX = 2
MF_CANWBS = 1 << 2
HEADER_LEN = 36  # the ACPI table header


def fail(msg):
    sys.stderr.write("iort-override.py: error: %s\n" % msg)
    sys.exit(1)


def checksum_ok(table):
    return sum(table) & 0xFF == 0


def patch(table):
    t = bytearray(table)
    if len(t) < HEADER_LEN + 12 or t[0:4] != b"IORT":
        fail("not an IORT table")
    (length,) = struct.unpack_from("<I", t, 4)
    if length != len(t):
        fail("table length %d but %d bytes read" % (length, len(t)))
    if not checksum_ok(t):
        fail("the input's checksum is wrong")
    num_nodes, node_off = struct.unpack_from("<II", t, HEADER_LEN)
    patched = 0
    off = node_off
    for _ in range(num_nodes):
        if off + 16 > len(t):
            fail("node at 0x%x runs past the table" % off)
        ntype, nlen = struct.unpack_from("<BH", t, off)
        if nlen < 16 or off + nlen > len(t):
            fail("node at 0x%x has a bad length %d" % (off, nlen))
        if ntype == IORT_NODE_PCI_ROOT_COMPLEX:
            flags_at = off + 16 + 7
            old = t[flags_at]
            t[flags_at] = old | MF_CANWBS
            sys.stderr.write(
                "iort-override.py: root complex node at 0x%x: memory access flags "
                "0x%x -> 0x%x (byte 0x%x)\n" % (off, old, t[flags_at], flags_at))
            patched += 1
        off += nlen
    if patched == 0:
        fail("no PCI root complex node in the table")
    (oem_rev,) = struct.unpack_from("<I", t, 24)
    struct.pack_into("<I", t, 24, oem_rev + 1)
    t[9] = 0
    t[9] = (-sum(t)) & 0xFF
    assert checksum_ok(t)
    sys.stderr.write("iort-override.py: OEM revision %d -> %d, checksum 0x%02x\n"
                     % (oem_rev, oem_rev + 1, t[9]))
    return bytes(t)


def newc_entry(ino, name, mode, data=b""):
    """One entry of a newc ("070701") cpio archive, padded to 4 bytes."""
    nameb = name.encode() + b"\0"
    hdr = "070701" + "".join("%08X" % v for v in (
        ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data),
        0, 0, 0, 0, len(nameb), 0))
    out = hdr.encode() + nameb
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def cpio(aml):
    dirs = ["kernel", "kernel/firmware", "kernel/firmware/acpi"]
    out = b""
    ino = 1
    for d in dirs:
        out += newc_entry(ino, d, 0o040755)
        ino += 1
    out += newc_entry(ino, "kernel/firmware/acpi/IORT.aml", 0o100644, aml)
    out += newc_entry(0, "TRAILER!!!", 0)
    return out + b"\0" * (-len(out) % 512)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: iort-override.py IORT.dat OUTDIR\n")
        sys.exit(2)
    with open(sys.argv[1], "rb") as f:
        aml = patch(f.read())
    outdir = sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    for name, data in (("IORT.aml", aml), ("override.cpio", cpio(aml))):
        tmp = os.path.join(outdir, name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(outdir, name))


if __name__ == "__main__":
    main()
