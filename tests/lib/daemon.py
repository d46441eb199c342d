"""What the test daemons (clamd.py, dovecot.py) share: a private directory, a with-block that
cleans up, and their logs as text. A subclass has self.dir, stop() and LOG_FILES (names of files
in self.dir)."""

import os
import shutil


class TestDaemon:
    LOG_FILES = ()

    def stop(self):
        raise NotImplementedError

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()

    def log_text(self):
        out = []
        for name in self.LOG_FILES:
            try:
                with open(os.path.join(self.dir, name), "rb") as f:
                    out.append(f.read().decode("utf-8", "replace"))
            except OSError:
                pass
        return "\n".join(out)
