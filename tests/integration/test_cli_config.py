"""The operator's side: `sealpost config check`, domains and aliases from the CLI, and a running
server picking up changes."""

import os
import smtplib
import subprocess
import tempfile
import unittest

from harness import SEALPOST_BIN, Sealpost, Sink, cli_then_reload, wait_for_log


def check(toml_text):
    with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
        f.write(toml_text)
    try:
        return subprocess.run([SEALPOST_BIN, "config", "check", "--config", f.name],
                              capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(f.name)


class ConfigCheckTest(unittest.TestCase):
    def test_valid_config_prints_effective_values_with_defaults(self):
        r = check('[server]\nhostname = "mx.example.com"\ndata_dir = "/tmp/x"\n'
                  '[listen]\nsmtp = "127.0.0.1:2525"\n[limits]\nmessage_size = "10M"\n')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('hostname = "mx.example.com"', r.stdout)
        self.assertIn("message_size = 10485760", r.stdout)
        self.assertIn("recipients = 100", r.stdout)  # the default
        self.assertIn('smtp = "127.0.0.1:2525"', r.stdout)

    def test_wrong_settings_name_the_key(self):
        cases = {
            '[server]\nhostnme = "x"\n': "server.hostnme: unknown setting",
            '[listen]\nsmtp = "localhost:25"\n': "listen.smtp",
            '[listen]\nsmtp = "127.0.0.1:99999"\n': "listen.smtp",
            '[limits]\nrecipients = 0\n': "limits.recipients",
            '[limits]\nmessage_size = "lots"\n': "limits.message_size",
            '[bogus]\nx = 1\n': "[bogus]: unknown section",
            '[tls]\ncert = "c.pem"\n': "tls.key",
            '[transport]\n"example.net" = "nowhere"\n': 'transport."example.net"',
            '[dns]\nservers = "127.0.0.1:53"\n': "dns.servers",
            '[server\n': "sealpost",
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                r = check(text)
                self.assertNotEqual(r.returncode, 0)
                self.assertIn(expected, r.stderr)

    def test_missing_file_is_a_clear_error(self):
        r = subprocess.run([SEALPOST_BIN, "config", "check", "--config", "/nonexistent.toml"],
                           capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("/nonexistent.toml", r.stderr)


class AdminTest(unittest.TestCase):
    def setUp(self):
        self.sink = Sink().start()
        self.addCleanup(self.sink.stop)
        self.mx = Sealpost(transport={"dest.test": self.sink.port})
        self.addCleanup(self.mx.cleanup)

    def test_domains_and_aliases(self):
        self.mx.cli("domain", "add", "Example.COM")
        r = self.mx.cli("domain", "add", "example.com", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already exists", r.stderr)
        self.mx.cli("domain", "add", "bücher.example")
        self.assertEqual(self.mx.cli("domain", "list").stdout.split(),
                         ["example.com", "xn--bcher-kva.example"])
        self.mx.cli("alias", "add", "Hello@example.com", "--forward", "me@dest.test",
                    "--forward", "you@Dest.TEST")
        self.mx.cli("alias", "add", "*@example.com", "--forward", "all@dest.test")
        self.assertEqual(self.mx.cli("alias", "list", "example.com").stdout.splitlines(),
                         ["*@example.com all@dest.test", "hello@example.com me@dest.test you@dest.test"])
        r = self.mx.cli("alias", "add", "x@nothosted.test", "--forward", "a@b.test", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("not hosted", r.stderr)
        r = self.mx.cli("alias", "add", "x@example.com", "--forward", "not-an-address", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.mx.cli("alias", "remove", "hello@example.com")
        self.assertEqual(self.mx.cli("alias", "list", "example.com").stdout.splitlines(),
                         ["*@example.com all@dest.test"])
        self.mx.cli("domain", "remove", "example.com")
        self.assertEqual(self.mx.cli("alias", "list", "example.com").stdout, "")

    def test_running_server_picks_up_changes(self):
        self.mx.cli("domain", "add", "example.com")
        self.mx.start()
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.ehlo()
            c.mail("s@origin.test")
            self.assertEqual(c.rcpt("late@example.com")[0], 550)
            cli_then_reload(self.mx, "alias", "add", "late@example.com", "--forward",
                            "late@dest.test")
            self.assertEqual(c.rcpt("late@example.com")[0], 250)

    def test_drops_root_privileges_after_binding(self):
        if os.geteuid() != 0:
            self.skipTest("needs root to test dropping privileges")
        os.chmod(self.mx.dir, 0o755)  # the unprivileged user must reach its data directory
        with open(self.mx.config) as f:
            text = f.read().replace(f'user = "{self.mx.user}"', 'user = "nobody"', 1)
        with open(self.mx.config, "w") as f:
            f.write(text)
        self.mx.cli("domain", "add", "example.com")
        self.mx.cli("alias", "add", "a@example.com", "--forward", "a@dest.test")
        self.mx.start()
        # The port accepts connections once bound (as root); "listening" is logged after the
        # privileges are dropped (the data directory is handed over first).
        wait_for_log(self.mx, r"listening")
        with open(f"/proc/{self.mx.proc.pid}/status") as f:
            uids = next(line for line in f if line.startswith("Uid:")).split()[1:]
        nobody = int(subprocess.run(["id", "-u", "nobody"], capture_output=True, text=True).stdout)
        self.assertEqual([int(u) for u in uids], [nobody] * 4)
        # It still serves, and still sees what the (root) CLI changes.
        cli_then_reload(self.mx, "alias", "add", "b@example.com", "--forward", "b@dest.test")
        with smtplib.SMTP("127.0.0.1", self.mx.port, timeout=30) as c:
            c.sendmail("s@origin.test", ["a@example.com", "b@example.com"], b"Subject: x\r\n\r\nx\r\n")
        self.assertEqual(len(self.sink.wait_for(1)), 1)

    def test_serve_stops_cleanly_on_sigterm(self):
        self.mx.start()
        self.mx.stop()
        self.assertEqual(self.mx.exit_code, 0)
        self.assertIn("stopped", self.mx.log_text())


if __name__ == "__main__":
    unittest.main()
