"""`sealpost filter explain`: the operator's view of what the content filter finds in a message
(issue 18), offline, from stdin, with the [filter] settings of the configuration when one is
named. test_filter_mx.py drives the MX itself."""

import email.message
import email.policy
import io
import os
import subprocess
import tempfile
import unittest
import zipfile

from harness import SEALPOST_BIN


def explain(raw, config=None, own_domains=()):
    args = [SEALPOST_BIN, "filter", "explain"] + (["-c", config] if config else [])
    for d in own_domains:
        args += ["--own-domain", d]
    env = {k: v for k, v in os.environ.items() if k != "SEALPOST_CONFIG"}
    return subprocess.run(args, input=raw, capture_output=True, timeout=30, env=env)


def message(attachments=(), text="Hello.", html=None):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m["From"] = "someone@sender.test"
    m["To"] = "alice@example.com"
    m["Subject"] = "test"
    m.set_content(text)
    if html:
        m.add_alternative(html, subtype="html")
    for name, ctype, data in attachments:
        maintype, subtype = ctype.split("/")
        m.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
    return m.as_bytes()


def zipped(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


# An MS-DOS program's header (every Windows program starts with one): libmagic calls it
# application/x-dosexec.
DOS_PROGRAM = (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00\xb8\x00"
               b"\x00\x00\x00\x00\x00\x00\x1e\x00").ljust(512, b"\x00")


class FilterExplainTest(unittest.TestCase):
    def test_a_program_behind_a_double_extension_is_refused(self):
        r = explain(message([("invoice.pdf.exe", "application/octet-stream", b"MZ\x90\x00")]))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("verdict: reject", out)
        self.assertIn("reply: 550 5.7.1 Message refused by the content filter: "
                      "ATTACHMENT_DOUBLE_EXTENSION, ATTACHMENT_EXECUTABLE", out)
        self.assertIn("X-Spam-Status: Yes, score=5.0 required=6.0 action=reject "
                      "tests=ATTACHMENT_DOUBLE_EXTENSION=5.0,ATTACHMENT_EXECUTABLE=0.0", out)
        self.assertIn("attachments: 1", out)

    def test_a_right_to_left_override_in_a_name_is_refused(self):
        r = explain(message([("invoice_\u202efdp.zip", "application/zip", b"PK\x03\x04")]))
        out = r.stdout.decode()
        self.assertIn("verdict: reject", out)
        self.assertIn("ATTACHMENT_BIDI_NAME", out)

    def test_a_program_is_refused_by_its_bytes_whatever_its_name(self):
        out = explain(message([("report.pdf", "application/pdf", DOS_PROGRAM)])).stdout.decode()
        self.assertIn("verdict: reject", out)
        self.assertIn("ATTACHMENT_EXECUTABLE_CONTENT", out)
        self.assertIn("a program by its content (application/x-dosexec)", out)

    def test_a_program_inside_a_zip_inside_a_zip_is_refused(self):
        inner = zipped([("readme.txt", b"see the tool"), ("tool.dat", DOS_PROGRAM)])
        outer = zipped([("documents/inner.zip", inner)])
        out = explain(message([("documents.zip", "application/zip", outer)])).stdout.decode()
        self.assertIn("verdict: reject", out)
        self.assertIn("a program by its content (application/x-dosexec) in an archive", out)

    def test_a_macro_document_is_refused(self):
        docm = zipped([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w:document/>"),
                       ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")])
        out = explain(message([("invoice.docm", "application/vnd.ms-word.document.macroEnabled.12",
                                docm)])).stdout.decode()
        self.assertIn("verdict: reject", out)
        self.assertIn("reply: 550 5.7.1 Message refused by the content filter: OFFICE_MACRO", out)

    def test_legitimate_mail_is_accepted_and_its_links_listed(self):
        r = explain(message([("minutes.pdf", "application/pdf", b"%PDF-1.4\n"),
                             ("photos.zip", "application/zip",
                              zipped([("a.txt", b"first"), ("report.docx", zipped(
                                  [("[Content_Types].xml", b"<Types/>"),
                                   ("word/document.xml", b"<w:document/>")]))]))],
                            text="Minutes attached; the agenda is at https://example.org/agenda.",
                            html="<p>Log in at http://paypal.com@evil.example/</p>"))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        # The user-info link scores, below the junk threshold on its own.
        self.assertIn("verdict: accept (score 5.0; junk at 6.0, reject at 15.0; "
                      "settings: the built-in defaults)", out)
        self.assertIn("findings (1):\n  URL_USERINFO_HOST", out)
        self.assertNotIn("reply:", out)
        self.assertIn("links (2):\n  example.org\n  evil.example user-info \"paypal.com\"\n", out)

    def test_a_display_name_showing_another_address_adds_up_with_the_links(self):
        raw = message(html="<p>Log in at http://paypal.com@198.51.100.7/ now</p>").replace(
            b"From: someone@sender.test", b'From: "service@paypal.com" <someone@sender.test>')
        out = explain(raw).stdout.decode()
        self.assertIn("verdict: junk (score 10.5;", out)
        self.assertIn("X-Spam-Status: Yes, score=10.5 required=6.0 action=junk tests="
                      "URL_USERINFO_HOST=5.0,PHISH_DISPLAY_NAME_ADDRESS=4.0,URL_IP_HOST=1.5", out)

    def test_local_adult_lists_and_the_operators_brands(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "adult.txt"), "w") as f:
                f.write("# the operator's own category list\nexample.xxx\n")
            config = os.path.join(d, "sealpost.toml")
            with open(config, "w") as f:
                f.write('[filter]\nadult_lists = ["adult.txt"]\nbrands = ["mybank.example"]\n'
                        'clamd = ""\n')
            r = explain(message(text="Tonight: https://www.example.xxx/live and "
                                     "https://login.mybamk.example/"), config)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            self.assertRegex(out, r"ADULT_DOMAIN +8\.0 +a link's domain www\.example\.xxx is in "
                                  r"a local adult list\n")
            self.assertRegex(out, r"PHISH_LOOKALIKE_DOMAIN +4\.0 +a link to login\.mybamk\.example "
                                  r"looks like mybank\.example\n")
            # A domain the list does not name is not adult; adult = false turns the lists off.
            r = explain(message(text="https://www.example.org/"), config)
            self.assertNotIn("ADULT_DOMAIN", r.stdout.decode())
            with open(config, "a") as f:
                f.write("adult = false\n")
            r = explain(message(text="https://www.example.xxx/live"), config)
            self.assertNotIn("ADULT_DOMAIN", r.stdout.decode())
            # A list that cannot be read is an error at start, not a silent gap.
            os.remove(os.path.join(d, "adult.txt"))
            with open(config, "w") as f:
                f.write('[filter]\nadult_lists = ["adult.txt"]\nclamd = ""\n')
            r = explain(message(), config)
            self.assertEqual(r.returncode, 1)
            self.assertIn("adult_lists", r.stderr.decode())

    def test_the_configured_thresholds_and_scores_apply(self):
        raw = message(html="<p>Log in at http://paypal.com@198.51.100.7/ now</p>")
        with tempfile.TemporaryDirectory() as d:
            config = os.path.join(d, "sealpost.toml")
            with open(config, "w") as f:
                # No virus scan (test_clamd.py scans): the default clamd may not be running.
                f.write("[filter]\njunk_score = 3\nreject_score = 8\nspam_action = \"junk\"\n"
                        "clamd = \"\"\n[filter.scores]\nURL_IP_HOST = 4\n")
            r = explain(raw, config)
            self.assertEqual(r.returncode, 0, r.stderr)
            out = r.stdout.decode()
            # 5.0 for the user-info, 4.0 (the operator's) for the IP host: past reject_score, and
            # spam_action keeps it as junk.
            self.assertIn(f"verdict: junk (score 9.0; junk at 3.0, junk at 8.0; settings: {config})",
                          out)
            self.assertIn("URL_IP_HOST=4.0", out)
            self.assertNotIn("reply:", out)
            # A program is still refused.
            r = explain(message([("setup.exe", "application/octet-stream", b"MZ")]), config)
            self.assertIn("reply: 550 5.7.1", r.stdout.decode())
            # A wrong config is an error that names the key, not a silent fallback.
            with open(config, "w") as f:
                f.write("[filter]\njunk_score = 30\n")
            r = explain(raw, config)
            self.assertEqual(r.returncode, 1)
            self.assertIn("filter.junk_score", r.stderr.decode())

    def test_links_only_in_the_html_markup_are_listed_and_checked(self):
        r = explain(message(text="Your account is locked.",
                            html='<p>Your account is locked. <a href="http://paypal.com&#64;'
                                 'evil.example/">Unlock it</a></p>'))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("findings (1):\n  URL_USERINFO_HOST", out)
        self.assertIn('links (1):\n  evil.example user-info "paypal.com"\n', out)

    def test_a_link_showing_another_domain_is_flagged(self):
        r = explain(message(html='<p>Sign in at <a href="https://login.evil.example/x">'
                                 'https://www.paypal.com/signin</a> or <a href="https://'
                                 'www.paypal.com/help">paypal.com/help</a></p>'))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("PHISH_LINK_TEXT_MISMATCH        4.0           "
                      "a link showing paypal.com goes to evil.example", out)
        self.assertIn("links (2):\n  login.evil.example\n  www.paypal.com\n", out)

    def test_a_homograph_link_and_a_lookalike_of_an_own_domain_add_up_to_junk(self):
        apple = "\u0430\u0440\u0440\u04cf\u0435.com"  # Cyrillic, xn--80ak6aa92e.com
        raw = message(text="Your invoice: https://xn--80ak6aa92e.com/invoice",
                      html=f'<p><a href="https://{apple}/i">Invoice</a></p>').replace(
            b"From: someone@sender.test", b"From: Billing <billing@examp1e.com>")
        r = explain(raw, own_domains=["Example.com"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        # One link however it is written, a homograph (6); the From: domain imitates the own
        # domain (5), which counts before the link's imitation of apple.com.
        self.assertIn("verdict: junk (score 11.0;", out)
        self.assertRegex(out, "PHISH_HOMOGRAPH +6\\.0 +a link to xn--80ak6aa92e\\.com "
                              f"\\({apple}\\), a name that imitates Latin letters\n")
        self.assertRegex(out, "PHISH_LOOKALIKE_DOMAIN +5\\.0 +the From: domain examp1e\\.com "
                              "looks like example\\.com\n")
        self.assertIn("links (1):\n  xn--80ak6aa92e.com\n", out)
        # Without --own-domain only the brands are protected: the link imitates apple.com (4).
        out = explain(raw).stdout.decode()
        self.assertIn("verdict: junk (score 10.0;", out)
        self.assertRegex(out, "PHISH_LOOKALIKE_DOMAIN +4\\.0 +a link to xn--80ak6aa92e\\.com "
                              f"\\({apple}\\) looks like apple\\.com\n")
        r = explain(raw, own_domains=["not a domain"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("--own-domain not a domain: not a domain name", r.stderr.decode())

    def test_legitimate_international_domains_are_not_flagged(self):
        raw = message(text="Order at https://b\u00fccher.de/ or https://\u043f\u0440\u0438\u043c"
                           "\u0435\u0440.\u0440\u0444/ or https://\u4f8b\u3048.jp/, pay at "
                           "https://www.paypal.com/ (https://paypal.co.uk/).").replace(
            b"From: someone@sender.test", b"From: shop@m\xc3\xbcnchen.de")
        r = explain(raw, own_domains=["example.com"])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("findings (0):", out)
        self.assertIn("links (5):", out)

    def test_a_newsletter_with_many_tracked_links_is_accepted(self):
        html = "<html><body><table>" + "".join(
            f'<tr><td><a href="https://click.tracker.example/c/{i}?u=abc">Read article {i}</a>'
            f'<img src="https://img.news.example/{i}.png"></td></tr>' for i in range(150)
        ) + '<tr><td><a href="https://news.example/unsubscribe">news.example/unsubscribe</a>' \
            "</td></tr></table></body></html>"
        r = explain(message(text="This week's news: https://news.example/", html=html))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = r.stdout.decode()
        self.assertIn("verdict: accept (score 0.0;", out)
        self.assertIn("findings (0):", out)
        self.assertIn("links (2):\n  click.tracker.example\n  news.example\n", out)

    def test_the_mime_conformance_corpus_is_read_without_error(self):
        import glob
        import os
        corpus = os.environ.get("SEALPOST_CONFORMANCE_DIR",
                                os.path.join(os.path.dirname(__file__), "..", "..", "..",
                                             "shared", "conformance"))
        files = sorted(glob.glob(os.path.join(corpus, "mime", "**", "*.eml"), recursive=True))
        if not files:
            self.skipTest(f"no MIME conformance corpus under {corpus}")
        for path in files[:200]:
            with open(path, "rb") as f:
                r = explain(f.read())
            self.assertEqual(r.returncode, 0, f"{path}: {r.stderr}")
            out = r.stdout.decode(errors="replace")
            self.assertRegex(out, r"^verdict: ", path)
            # Nothing in the corpus is an archive problem or a program by its bytes.
            self.assertNotRegex(out, r"ARCHIVE_|_CONTENT|OFFICE_MACRO", path)


if __name__ == "__main__":
    unittest.main()
