#!/usr/bin/env python3
"""Counts, in a pcap file of loopback traffic, the TCP streams whose bytes
contain each of the given strings. The payloads of each direction of each
connection are put back together first, so that a string split across two
segments is still found. Prints one line per string: "<count> <string>"."""
import struct
import sys


def streams(path, ports=None):
    """The bytes of each direction of each connection, put back together;
    with ports, only connections to or from one of them."""
    return [data for (_, sport, _, dport), data in streams_by_key(path).items()
            if ports is None or sport in ports or dport in ports]


def streams_by_key(path):
    """{(src, sport, dst, dport): bytes} for each direction of each connection."""
    out = {}
    with open(path, 'rb') as f:
        head = f.read(24)
        magic = struct.unpack('<I', head[:4])[0]
        order = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        link = struct.unpack(order + 'I', head[20:24])[0]
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            incl = struct.unpack(order + 'IIII', rec)[2]
            pkt = f.read(incl)
            if link == 1:          # Ethernet
                if len(pkt) < 14 or pkt[12:14] not in (b'\x08\x00', b'\x86\xdd'):
                    continue
                pkt = pkt[14:]
            elif link == 113:      # Linux cooked
                pkt = pkt[16:]
            if not pkt:
                continue
            if pkt[0] >> 4 == 4:
                ihl = (pkt[0] & 15) * 4
                if pkt[9] != 6:
                    continue
                src, dst, tcp = pkt[12:16], pkt[16:20], pkt[ihl:]
            elif pkt[0] >> 4 == 6:
                if pkt[6] != 6:
                    continue
                src, dst, tcp = pkt[8:24], pkt[24:40], pkt[40:]
            else:
                continue
            if len(tcp) < 20:
                continue
            sport, dport, seq = struct.unpack('>HHI', tcp[:8])
            off = (tcp[12] >> 4) * 4
            data = tcp[off:]
            if data:
                key = (src, sport, dst, dport)
                seen = out.setdefault(key, {})
                seen.setdefault(seq, data)   # a retransmission counts once
    return {k: b''.join(v for _, v in sorted(segs.items())) for k, segs in out.items()}


def main():
    all_streams = streams(sys.argv[1])
    for s in sys.argv[2:]:
        b = s.encode()
        print(sum(1 for st in all_streams if b in st), s)


if __name__ == '__main__':
    main()
