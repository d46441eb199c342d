#!/usr/bin/python3
"""dkimpy's signing and verification rates on the files sealpost_bench_dkim wrote (same message,
same keys). Prints one line per algorithm, like sealpost_bench_dkim."""

import sys
import time

import dkim


def rate(seconds, fn):
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < seconds:
        fn()
        n += 1
    return n / (time.monotonic() - start)


def main():
    d = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3.0
    message = open(f"{d}/message.eml", "rb").read()
    for name, alg in (("rsa", b"rsa-sha256"), ("ed25519", b"ed25519-sha256")):
        pem = open(f"{d}/{name}.pem", "rb").read()
        record = open(f"{d}/{name}.txt", "rb").read()
        signed = open(f"{d}/{name}.signed.eml", "rb").read()
        if name == "ed25519":
            # dkimpy takes Ed25519 keys as the base64 raw seed: the last 32 bytes of the PKCS#8 DER.
            import base64
            der = base64.b64decode(b"".join(l for l in pem.splitlines() if not l.startswith(b"-----")))
            key = base64.b64encode(der[-32:])
        else:
            key = pem
        dnsfunc = lambda _name, timeout=5: record  # noqa: E731
        headers = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
                   b"content-type"]
        sign_rate = rate(seconds, lambda: dkim.sign(message, name.encode(), b"example.com", key,
                                                    canonicalize=(b"relaxed", b"relaxed"),
                                                    signature_algorithm=alg,
                                                    include_headers=headers))
        if not dkim.DKIM(signed).verify(dnsfunc=dnsfunc):
            print(f"dkimpy cannot verify sealpost's {name} signature", file=sys.stderr)
            sys.exit(1)
        verify_rate = rate(seconds, lambda: dkim.DKIM(signed).verify(dnsfunc=dnsfunc))
        print(f"dkimpy   {name:<8} sign {sign_rate:8.0f} /s   verify {verify_rate:8.0f} /s")


main()
