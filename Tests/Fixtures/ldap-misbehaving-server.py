#!/usr/bin/env python3
"""A tiny LDAP server on loopback that answers searches in ways a real server
may, and a careless client reads as "everyone": for the tests of
compliance-sync's fail-closed LDAP reading. It speaks just enough LDAPv3 (BER)
for libldap: bind, search, unbind.

usage: ldap-misbehaving-server.py MODE [PORTFILE]   (prints, or writes, the port it listens on)
  no-paging-control   a paged search is answered with no paging control
  short-range         a ranged attribute (member;range=0-1) whose next range never comes
"""
import os
import socket
import sys
import threading

PAGED = b"1.2.840.113556.1.4.319"


def length(n):
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag, content):
    return bytes([tag]) + length(len(content)) + content


def octets(text):
    return tlv(0x04, text if isinstance(text, bytes) else text.encode())


def integer(n):
    return tlv(0x02, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=True))


def read_tlv(buf, pos):
    tag = buf[pos]
    pos += 1
    first = buf[pos]
    pos += 1
    if first & 0x80:
        count = first & 0x7F
        size = int.from_bytes(buf[pos:pos + count], "big")
        pos += count
    else:
        size = first
    return tag, buf[pos:pos + size], pos + size


def elements(content):
    found, pos = [], 0
    while pos < len(content):
        tag, value, pos = read_tlv(content, pos)
        found.append((tag, value))
    return found


def result(tag):
    return tlv(tag, tlv(0x0A, b"\x00") + octets("") + octets(""))


def entry(dn, attributes):
    listed = b"".join(tlv(0x30, octets(name) + tlv(0x31, b"".join(octets(v) for v in values)))
                      for name, values in attributes)
    return tlv(0x64, octets(dn) + tlv(0x30, listed))


def message(msgid, op, controls=b""):
    return tlv(0x30, integer(msgid) + op + controls)


def page_control():
    value = tlv(0x30, integer(0) + octets(b""))
    return tlv(0xA0, tlv(0x30, octets(PAGED) + octets(value)))


def answer(mode, msgid, search):
    parts = elements(search)
    scope = parts[1][1][0]
    wanted = [value.decode() for _, value in elements(parts[7][1])]
    dn = "cn=staff,dc=example,dc=com"
    if mode == "no-paging-control":
        return [message(msgid, entry(dn, [("entryUUID", ["u-1"]), ("cn", ["staff"])])), message(msgid, result(0x65))]
    if scope == 0 and any(name.lower().startswith("member;range=") for name in wanted):
        # The next range is asked for; the server answers with none of it.
        return [message(msgid, entry(dn, [("cn", ["staff"])])), message(msgid, result(0x65), page_control())]
    member = [("member;range=0-1", ["uid=a,dc=example,dc=com", "uid=b,dc=example,dc=com"])]
    return [message(msgid, entry(dn, [("entryUUID", ["u-1"]), ("cn", ["staff"])] + member)),
            message(msgid, result(0x65), page_control())]


def serve(connection, mode):
    buf = b""
    with connection:
        while True:
            data = connection.recv(65536)
            if not data:
                return
            buf += data
            while len(buf) >= 2:
                try:
                    tag, content, end = read_tlv(buf, 0)
                except IndexError:
                    break
                if end > len(buf):
                    break
                buf = buf[end:]
                parts = elements(content)
                msgid = int.from_bytes(parts[0][1], "big")
                op_tag, op = parts[1]
                if op_tag == 0x60:
                    connection.sendall(message(msgid, result(0x61)))
                elif op_tag == 0x63:
                    connection.sendall(b"".join(answer(mode, msgid, op)))
                elif op_tag == 0x42:
                    return


def main():
    mode = sys.argv[1]
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = str(listener.getsockname()[1])
    if len(sys.argv) > 2:
        with open(sys.argv[2] + ".tmp", "w") as f:
            f.write(port)
        os.rename(sys.argv[2] + ".tmp", sys.argv[2])
    else:
        print(port, flush=True)
    listener.settimeout(60)  # and gone when nobody has called for a minute
    while True:
        try:
            connection, _ = listener.accept()
        except socket.timeout:
            return
        threading.Thread(target=serve, args=(connection, mode), daemon=True).start()


if __name__ == "__main__":
    main()
