"""conftest.py - pytest fixtures for Posthorn's integration tests.

Fixtures:
  instance       a started default instance for one test
  make_instance  factory: make_instance(main={...}, master=[...], qmgr=False,
                 start=True, users=("alice", "bob")) -> PosthornInstance; all are stopped and removed
                 after the test
  module_instance_factory  the same, but instances live for the whole module
                 (for modules whose tests can share one instance)

Binaries come from $POSTHORN_BUILD (default ./build).  When a test fails,
the tail of the maillog of every instance alive at that moment is added to
the report.  With a SAN=1 build, ASan/UBSan reports of any instance
process (written to D/san/asan.PID, D/san/ubsan.PID) make the test fail at
teardown.  Set POSTHORN_KEEP=1 to keep the instance directories.
"""

import os
import shutil
import tempfile

import pytest

from posthorn_instance import PosthornInstance, build_dir, IS_ROOT

LIVE = []


def _needed_binaries():
    b = build_dir()
    return [os.path.join(b, "libexec", n) for n in ("master", "smtpd", "qmgr", "local")] + \
        [os.path.join(b, "bin", n) for n in ("posthorn", "postconf", "sendmail")]


def pytest_collection_modifyitems(config, items):
    missing = [p for p in _needed_binaries() if not os.access(p, os.X_OK)]
    if missing:
        skip = pytest.mark.skip(reason="binaries missing (set POSTHORN_BUILD): " + ", ".join(missing))
        for item in items:
            item.add_marker(skip)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for inst in list(LIVE):
            report.sections.append(("maillog tail of " + inst.base, inst.log_tail(40)))


class _Factory:
    def __init__(self):
        self.made = []

    def __call__(self, main=None, master=None, qmgr=True, start=True,
                 users=("alice", "bob")):
        base = tempfile.mkdtemp(prefix="ph-", dir="/tmp")
        inst = PosthornInstance(base, main=main, master=master, qmgr=qmgr, users=users)
        self.made.append(inst)
        LIVE.append(inst)
        if start:
            inst.start()
        return inst

    def close(self):
        """Stop and remove every instance; fail if a sanitizer reported."""
        reports = []
        for inst in self.made:
            try:
                inst.stop()
                reports.append(inst.sanitizer_reports())
            finally:
                if inst in LIVE:
                    LIVE.remove(inst)
                if not os.environ.get("POSTHORN_KEEP"):
                    shutil.rmtree(inst.base, ignore_errors=True)
        reports = [r for r in reports if r]
        if reports:
            pytest.fail("sanitizer reports:\n" + "\n".join(reports), pytrace=False)


@pytest.fixture
def make_instance():
    f = _Factory()
    yield f
    f.close()


@pytest.fixture(scope="module")
def module_instance_factory():
    f = _Factory()
    yield f
    f.close()


@pytest.fixture
def instance(make_instance):
    return make_instance()


@pytest.fixture
def is_root():
    return IS_ROOT
