"""MTA-STS (RFC 8461) on the way out, with real peers on loopback: a DNS server (unbound) publishing
the destinations' MX, `_mta-sts` TXT and policy-host records, an HTTPS policy server whose
certificate a test CA signed (Sealpost trusts it through [relay] ca_file), and an SMTP sink as
every MX host. A domain in "enforce" mode gets its mail only from an MX host its policy lists, only
over TLS with a certificate valid for that host: otherwise the message waits in the queue."""

import base64
import email
import email.policy
import gzip
import http.server
import json
import os
import shutil
import ssl
import tempfile
import threading
import time
import unittest

from dns_server import DnsServer
from harness import Sealpost, Sink, free_port, make_ca, make_signed_cert, wait_until

PASSWORD = "correct horse battery staple"
ALICE = "alice@example.com"

POLICIES = {
    "mta-sts.secure.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.secure.test\r\n"
                           "max_age: 86400\r\n",
    # Its MX is mx.other.test, which this policy does not list.
    "mta-sts.other.test": "version: STSv1\r\nmode: enforce\r\nmx: *.elsewhere.test\r\n"
                          "max_age: 86400\r\n",
    "mta-sts.badcert.test": "version: STSv1\r\nmode: enforce\r\nmx: mx.badcert.test\r\n"
                            "max_age: 86400\r\n",
    "mta-sts.testing.test": "version: STSv1\r\nmode: testing\r\nmx: mx.testing.test\r\n"
                            "max_age: 86400\r\n",
}


def records(https_port):
    out = []
    for d in ("secure", "open", "other", "badcert", "testing"):
        out += [f"{d}.test. 300 IN MX 10 mx.{d}.test.", f"mx.{d}.test. 300 IN A 127.0.0.1"]
        if d != "open":
            out += [f'_mta-sts.{d}.test. 300 IN TXT "v=STSv1; id=20261204T000000"',
                    f"mta-sts.{d}.test. 300 IN A 127.0.0.1"]
    # secure.test wants TLS reports (RFC 8460).
    out.append('_smtp._tls.secure.test. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@reports.test,'
               f'https://rua.secure.test:{https_port}/tlsrpt"')
    out.append("rua.secure.test. 300 IN A 127.0.0.1")
    return out


class PolicyHandler(http.server.BaseHTTPRequestHandler):
    fetches = []
    posts = []

    def do_POST(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        PolicyHandler.posts.append((host, self.path, self.headers.get("Content-Type"), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        host = (self.headers.get("Host") or "").split(":")[0]
        PolicyHandler.fetches.append((host, self.path))
        body = POLICIES.get(host)
        if self.path != "/.well-known/mta-sts.txt" or body is None:
            self.send_error(404)
            return
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class MtaStsTest(unittest.TestCase):
    def setUp(self):
        self.work = tempfile.mkdtemp(prefix="mta-sts-test-")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.ca = make_ca(self.work)
        policy_cert = make_signed_cert(self.work, self.ca, list(POLICIES) + ["rua.secure.test"],
                                       "policy")
        self.mx_cert = make_signed_cert(self.work, self.ca, ["mx.secure.test"], "mx")

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(*policy_cert)
        self.https = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PolicyHandler)
        self.https.socket = ctx.wrap_socket(self.https.socket, server_side=True)
        threading.Thread(target=self.https.serve_forever, daemon=True).start()
        self.addCleanup(self.https.server_close)
        self.addCleanup(self.https.shutdown)
        PolicyHandler.fetches = []
        PolicyHandler.posts = []

        self.dns = DnsServer(["secure.test", "open.test", "other.test", "badcert.test",
                              "testing.test"], records(self.https.server_port))
        self.dns.start()
        self.addCleanup(self.dns.stop)

        self.sink_port = free_port()
        self.sink = Sink(port=self.sink_port).start()  # no STARTTLS at first
        self.addCleanup(lambda: self.sink.stop())
        self.reports = Sink().start()
        self.addCleanup(self.reports.stop)
        # The queue's clock, which the test moves a day ahead to get the day's TLS reports.
        os.chmod(self.work, 0o711)  # the server reads the clock as its unprivileged user
        self.clock = os.path.join(self.work, "clock")
        with open(self.clock, "w") as f:
            f.write("0\n")
        os.environ["SEALPOST_TEST_CLOCK_FILE"] = self.clock
        self.addCleanup(os.environ.pop, "SEALPOST_TEST_CLOCK_FILE", None)
        self.mx = Sealpost(
            dns_port=self.dns.port, listen=("submission",),
            transport={"reports.test": self.reports.port},
            extra=f'[relay]\nport = {self.sink_port}\nmta_sts_port = {self.https.server_port}\n'
                  f'ca_file = "{self.ca[0]}"\n\n[queue]\nretry = "1h"\n')
        self.addCleanup(self.mx.cleanup)
        self.mx.cli("domain", "add", "example.com")
        self.mx.add_mailbox(ALICE, PASSWORD)
        self.mx.start()

    def send(self, *recipients):
        self.mx.submit(ALICE, PASSWORD, recipients)

    def shown(self):
        """`queue show` of every entry, by recipient domain."""
        out = {}
        for line in self.mx.cli("queue", "list").stdout.splitlines()[1:]:
            entry = line.split()[0]
            text = self.mx.cli("queue", "show", entry).stdout
            rcpt = text.split("recipient: <")[1].split(">")[0]
            out[rcpt.split("@")[1]] = text
        return out

    def wait_for_attempts(self, domains, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            shown = self.shown()
            if all(d in shown and "attempts=0" not in shown[d] for d in domains):
                return shown
            time.sleep(0.2)
        self.fail(f"no attempt for {domains}: {self.shown()}")

    def test_enforce_waits_for_a_listed_mx_with_verified_tls(self):
        self.send("bob@secure.test", "carol@open.test", "dave@other.test", "erin@testing.test")
        shown = self.wait_for_attempts(["secure.test", "other.test", "open.test", "testing.test"])
        # Without a policy, and in "testing" mode, mail goes over what the MX offers (here: no TLS).
        got = self.sink.wait_for(2, timeout=20)
        self.assertEqual(sorted(m.rcpt_tos[0] for m in got),
                         ["carol@open.test", "erin@testing.test"])
        self.assertFalse(any(m.tls for m in got))
        # "enforce" and no STARTTLS: the message waits (a temporary 4.7.5, category tls).
        self.assertIn(" pending ", shown["secure.test"])
        self.assertIn("last=451 (tls)", shown["secure.test"])
        self.assertIn("4.7.5 TLS is required, but was not offered by the host",
                      shown["secure.test"])
        # "enforce" and an MX its policy does not list: waits as well.
        self.assertIn(" pending ", shown["other.test"])
        self.assertIn("none of the destination's MX hosts is listed in its policy",
                      shown["other.test"])
        self.assertIn(("mta-sts.secure.test", "/.well-known/mta-sts.txt"), PolicyHandler.fetches)

        # The MX gets a certificate for mx.secure.test from the CA: the waiting mail goes out
        # over verified TLS at the next try.
        self.sink.stop()
        self.sink = Sink(tls=True, port=self.sink_port, cert=self.mx_cert).start()
        self.mx.cli("queue", "retry", "--all")
        got = self.sink.wait_for(1, timeout=30)
        self.assertEqual([m.rcpt_tos for m in got], [["bob@secure.test"]])
        self.assertTrue(got[0].tls)
        # other.test's retry is recorded as still waiting: the sink's count is final for it.
        def retried():
            shown = self.shown()
            return shown if "attempts=2" in shown["other.test"] else None
        shown = wait_until(retried, interval=0.2, message="other.test's retry")
        self.assertIn(" pending ", shown["other.test"])
        self.assertEqual(len(self.sink.messages), 1, "other.test still waits")

        # badcert.test's MX presents a certificate for another name: refused, the mail waits.
        self.send("frank@badcert.test")
        shown = self.wait_for_attempts(["badcert.test"])
        self.assertIn("4.7.5 Server certificate not verified", shown["badcert.test"])
        self.assertEqual(len(self.sink.messages), 1)
        # The policy was fetched once and then taken from the cache (its id did not change).
        self.assertEqual(PolicyHandler.fetches.count(("mta-sts.secure.test",
                                                      "/.well-known/mta-sts.txt")), 1)
        log = self.mx.log_text()
        for secret in ("secure.test", "badcert", "bob@", "alice"):
            self.assertNotIn(secret, log)

        # A day later secure.test gets its TLS report (RFC 8460): one session without STARTTLS,
        # then one that verified.
        with open(self.clock, "w") as f:
            f.write("86400\n")
        got = self.reports.wait_for(1, timeout=30)
        self.assertEqual(len(got), 1, "one report, for the one domain that asks")
        report = got[0]
        self.assertEqual(report.mail_from, "<>", "reports go from the null sender")
        self.assertEqual(report.rcpt_tos, ["tls@reports.test"])
        msg = email.message_from_bytes(report.content, policy=email.policy.default)
        self.assertEqual(msg.get_content_type(), "multipart/report")
        self.assertEqual(msg.get_param("report-type"), "tlsrpt")
        self.assertEqual(msg["TLS-Report-Domain"], "secure.test")
        self.assertTrue(msg["Subject"].startswith("Report Domain: secure.test Submitter: "))
        attachment = next(p for p in msg.iter_parts()
                          if p.get_content_type() == "application/tlsrpt+gzip")
        self.assertTrue(attachment.get_filename().endswith(".json.gz"))
        data = json.loads(gzip.decompress(attachment.get_content()))
        self.assertEqual(len(data["policies"]), 1)
        policy = data["policies"][0]
        self.assertEqual(policy["policy"]["policy-type"], "sts")
        self.assertEqual(policy["policy"]["policy-domain"], "secure.test")
        self.assertIn("mode: enforce", policy["policy"]["policy-string"])
        self.assertEqual(policy["summary"]["total-successful-session-count"], 1)
        self.assertGreaterEqual(policy["summary"]["total-failure-session-count"], 1)
        kinds = {d["result-type"] for d in policy["failure-details"]}
        self.assertEqual(kinds, {"starttls-not-supported"})
        self.assertEqual(policy["failure-details"][0]["receiving-mx-hostname"], "mx.secure.test")
        # ...and the same report was POSTed to its https: address (RFC 8460 section 5.4).
        self.assertEqual(len(PolicyHandler.posts), 1)
        host, path, ctype, body = PolicyHandler.posts[0]
        self.assertEqual((host, path, ctype), ("rua.secure.test", "/tlsrpt",
                                               "application/tlsrpt+gzip"))
        posted = json.loads(gzip.decompress(body))
        self.assertEqual(posted["policies"], data["policies"])
        self.assertEqual(posted["report-id"], data["report-id"])


if __name__ == "__main__":
    unittest.main()
