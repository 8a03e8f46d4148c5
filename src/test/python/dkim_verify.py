#!/usr/bin/env python3
"""Verifies every DKIM-Signature of a message with dkimpy, an implementation independent of keyrelay's.

Usage: dkim_verify.py DNS_PORT MESSAGE_FILE

The public keys are looked up in DNS, at the DNS server on 127.0.0.1:DNS_PORT (the tests start dnsmasq there).
Prints one line per signature ("ok <a> <d> <s>" or "fail ...") and exits 0 only if the message has at least one
signature and every one verifies; 1 if one fails, 2 on bad usage.
"""
import re
import sys

import dkim
import dns.resolver


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = int(sys.argv[1])

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode("ascii")
        resolver.lifetime = timeout
        answer = resolver.resolve(name, "TXT")
        return b"".join(answer[0].strings)

    with open(sys.argv[2], "rb") as f:
        message = f.read()
    headers = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    count = len(re.findall(rb"(?im)^dkim-signature:", headers))
    if count == 0:
        print("fail: no DKIM-Signature")
        return 1
    d = dkim.DKIM(message)
    ok = True
    for i in range(count):
        try:
            good = d.verify(idx=i, dnsfunc=dnsfunc)
        except dkim.DKIMException as e:
            good = False
            print("error", e)
        sig = d.signature_fields if hasattr(d, "signature_fields") else {}
        desc = " ".join(x.decode() for x in (sig.get(b"a", b"?"), sig.get(b"d", b"?"), sig.get(b"s", b"?")))
        print(("ok " if good else "fail ") + desc)
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
