"""test_man.py - the manual pages: generated, rendered, complete.

mk/mkman.sh makes the pages of the build under test (POSTHORN_BUILD) in a
temporary directory: postconf(5) from "postconf -d" and
man/postconf.5.params, and a copy of every hand-written page of man/.

  - every page renders with "man -l" (man-db) and with "groff -man -ww"
    without a single warning or error, and lexgrog finds its NAME line
    (what mandb and whatis read); skipped when man-db / groff are not
    installed (Debian: man-db, groff-base);
  - postconf(5) has exactly the parameters of "postconf -d", in its
    order, each with the default that postconf -d prints (the few
    defaults computed on the host, marked "%default" in
    postconf.5.params, excepted);
  - every program of bin/ has a section 1 page and every program of
    libexec/ a section 8 page, whose NAME line names it;
  - the parameters that the pages list under CONFIGURATION PARAMETERS
    exist;
  - mkman.sh fails, naming them, when a parameter has no description,
    when a description is for a parameter postconf -d does not print,
    and when a page names an unknown @parameter@.
No instance is started.
"""

import os
import re
import shlex
import shutil
import subprocess
import tempfile

import pytest

from posthorn_instance import REPO, build_dir

MKMAN = os.path.join(REPO, "mk", "mkman.sh")
MAN_SRC = os.path.join(REPO, "man")
PARAMS = os.path.join(MAN_SRC, "postconf.5.params")

# Defaults that postconf -d computes on the host it runs on: postconf(5)
# describes them instead of showing the build host's value.
HOST_DEFAULTS = {"myhostname", "mydomain", "mynetworks"}

PACKAGES = "Debian packages man-db (man, lexgrog) and groff-base (groff)"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(MKMAN) and os.path.isdir(MAN_SRC)),
    reason="mk/mkman.sh or man/ not in this tree (a copy without the sources)")


def render_env():
    env = dict(os.environ)
    env.update(MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8",
               LANG="C.UTF-8", MAN_DISABLE_SECCOMP="1")
    env.pop("MANOPT", None)
    return env


def mkman(out, src=None):
    args = ["sh", MKMAN, build_dir(), out]
    if src:
        args.append(src)
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def postconf_d():
    """postconf -d of the build, as mkman.sh runs it: [(name, value)]"""
    conf = tempfile.mkdtemp(prefix="test_man.")
    try:
        for f in ("main.cf", "master.cf"):
            open(os.path.join(conf, f), "w").close()
        r = subprocess.run([os.path.join(build_dir(), "bin", "postconf"), "-c", conf, "-d"],
                           capture_output=True, text=True, timeout=60)
    finally:
        shutil.rmtree(conf)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    out = []
    for line in r.stdout.splitlines():
        name, _, value = line.partition(" =")
        out.append((name, value[1:] if value.startswith(" ") else value))
    return out


@pytest.fixture(scope="module")
def pages():
    out = tempfile.mkdtemp(prefix="test_man.")
    r = mkman(out)
    assert r.returncode == 0, "mkman.sh failed:\n" + r.stdout + r.stderr
    assert r.stderr == "", r.stderr
    yield out
    shutil.rmtree(out)


def page_files(pages):
    files = sorted(f for f in os.listdir(pages) if re.search(r"\.[158]$", f))
    assert files, "no pages in " + pages
    return files


def test_mkman_writes_every_page(pages):
    files = page_files(pages)
    sources = sorted(f for f in os.listdir(MAN_SRC) if re.search(r"\.[158]$", f))
    assert files == sorted(sources + ["postconf.5"])
    for f in files:
        text = open(os.path.join(pages, f)).read()
        assert not re.search(r"@[A-Za-z0-9_]+@", text), f + ": @name@ left"
        assert text.startswith(".TH ") or text.startswith(".\\\""), f


# (a) every page renders without a warning


def test_man_renders_every_page(pages):
    if not shutil.which("man"):
        pytest.skip("man is not installed: install the " + PACKAGES)
    for f in page_files(pages):
        r = subprocess.run(["man", "--warnings=all", "-E", "UTF-8", "-l", f],
                           cwd=pages, env=render_env(), capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, "%s: man -l exit %d\n%s" % (f, r.returncode, r.stderr)
        assert r.stderr == "", "%s: man -l says:\n%s" % (f, r.stderr)
        assert "NAME" in r.stdout, f


def test_groff_renders_every_page(pages):
    if not shutil.which("groff"):
        pytest.skip("groff is not installed: install the " + PACKAGES)
    for f in page_files(pages):
        r = subprocess.run(["groff", "-man", "-ww", "-z", "-Tutf8", f], cwd=pages,
                           env=render_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and r.stderr == "", "%s: groff says:\n%s" % (f, r.stderr)


def test_name_lines_for_whatis(pages):
    if not shutil.which("lexgrog"):
        pytest.skip("lexgrog is not installed: install the " + PACKAGES)
    for f in page_files(pages):
        r = subprocess.run(["lexgrog", f], cwd=pages, capture_output=True, text=True,
                           timeout=60)
        assert r.returncode == 0, "%s: lexgrog: %s%s" % (f, r.stdout, r.stderr)
        assert re.search(r' - \S', r.stdout), "%s: no whatis line: %s" % (f, r.stdout)


# (b) postconf(5) and postconf -d name the same parameters and defaults


def roff_text(text):
    """what a roff value in the generated page stands for"""
    text = re.sub(r"\\f[BIRP]", "", text)
    return text.replace("\\:", "").replace("\\-", "-").replace("\\e", "\\")


def postconf5_entries(pages):
    """[(name, shown default)] of the generated postconf(5), in order"""
    lines = open(os.path.join(pages, "postconf.5")).read().split("\n")
    start = lines.index(".SH PARAMETERS")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith(".SH "))
    entries = []
    for i in range(start, end):
        if lines[i] == ".TP":
            m = re.match(r"\\fB([A-Za-z0-9_]+)\\fR \(default: (.*)\)$", lines[i + 1])
            assert m, "bad entry line %d: %s" % (i + 2, lines[i + 1])
            entries.append((m.group(1), m.group(2)))
    return entries


def host_default_names():
    names = set()
    current = None
    for line in open(PARAMS):
        if re.match(r"[A-Za-z0-9_]+$", line.rstrip("\n")):
            current = line.strip()
        elif line.strip().startswith("%default ") and current:
            names.add(current)
    return names


def test_postconf5_has_every_parameter_of_postconf_d(pages):
    defaults = postconf_d()
    entries = postconf5_entries(pages)
    names = [n for n, _ in defaults]
    shown = [n for n, _ in entries]
    missing = sorted(set(names) - set(shown))
    extra = sorted(set(shown) - set(names))
    assert not missing and not extra, "not in postconf(5): %s; not in postconf -d: %s" % (
        missing, extra)
    assert shown == names, "postconf(5) is not in postconf -d order"
    assert len(shown) == len(set(shown)), "a parameter is listed twice"


def test_postconf5_defaults_are_those_of_postconf_d(pages):
    overridden = host_default_names()
    assert overridden <= HOST_DEFAULTS, (
        "%default is only for defaults computed on the host: %s" % sorted(overridden))
    entries = dict(postconf5_entries(pages))
    for name, value in postconf_d():
        shown = entries[name]
        if name in overridden:
            continue
        if value == "":
            assert shown == "empty", "%s: %r" % (name, shown)
        else:
            assert re.fullmatch(r"\\fI.*\\fR", shown), "%s: %r" % (name, shown)
            assert roff_text(shown) == value, "%s: postconf(5) %r, postconf -d %r" % (
                name, roff_text(shown), value)


def test_every_parameter_has_a_real_description(pages):
    text = open(os.path.join(pages, "postconf.5")).read()
    body = text.split(".SH PARAMETERS", 1)[1].split("\n.SH ", 1)[0]
    for entry in body.split("\n.TP\n")[1:]:
        head, _, desc = entry.partition("\n")
        words = re.findall(r"[A-Za-z]+", roff_text(desc))
        assert len(words) >= 5, "%s: description too short: %r" % (head, desc)


def test_unused_parameters_are_unused():
    """a parameter that postconf(5) says Posthorn reads nowhere is named
    in no C source (besides the parameter table): when someone makes a
    program read it, its description must change too"""
    current = None
    unused = set()
    for line in open(PARAMS):
        if re.match(r"[A-Za-z0-9_]+$", line.rstrip("\n")):
            current = line.strip()
        elif current and re.search(r"reads? (this parameter |it )?nowhere", line):
            unused.add(current)
    assert len(unused) > 10, unused
    sources = []
    for top in ("lib", "master", "smtpd", "qmgr", "local", "smtp", "pickup", "pop3d",
                "imapd", "postqueue", "postmap"):
        for d, _, files in os.walk(os.path.join(REPO, top)):
            sources += [os.path.join(d, f) for f in files if f.endswith(".c")]
    sources = [s for s in sources if not s.endswith(os.path.join("global", "mail_params.c"))]
    if not sources:
        pytest.skip("no C sources in this tree")
    used = []
    for path in sources:
        text = open(path, errors="replace").read()
        for name in unused:
            if '"%s"' % name in text:
                used.append("%s: %s" % (os.path.relpath(path, REPO), name))
    assert not used, ("postconf.5.params says these are read nowhere, but the "
                      "code names them:\n" + "\n".join(sorted(used)))


# (c) every program has a page


def whatis_names(path):
    """the names on the NAME line of a page"""
    lines = open(path).read().split("\n")
    i = lines.index(".SH NAME")
    return [n.strip() for n in lines[i + 1].split("\\-")[0].split(",")]


def test_every_program_has_a_page(pages):
    b = build_dir()
    missing = []
    for subdir, section in (("bin", "1"), ("libexec", "8")):
        for prog in sorted(os.listdir(os.path.join(b, subdir))):
            page = os.path.join(pages, "%s.%s" % (prog, section))
            if not os.path.exists(page):
                missing.append("%s/%s: no %s(%s)" % (subdir, prog, prog, section))
            elif prog not in whatis_names(page):
                missing.append("%s(%s): NAME does not name %s" % (prog, section, prog))
    assert not missing, "\n".join(missing)
    for page in ("master.5", "postconf.5"):
        assert os.path.exists(os.path.join(pages, page)), page


def test_parameters_the_pages_list_exist(pages):
    known = {n for n, _ in postconf_d()}
    unknown = []
    for f in page_files(pages):
        if f == "postconf.5":
            continue
        text = open(os.path.join(pages, f)).read()
        if '.SH "CONFIGURATION PARAMETERS"' not in text:
            continue
        section = text.split('.SH "CONFIGURATION PARAMETERS"', 1)[1].split("\n.SH ", 1)[0]
        for line in section.split("\n"):
            if line.startswith(".B "):
                words = shlex.split(line[3:])
            elif line.startswith(".BR "):
                words = shlex.split(line[4:])[0::2]
            else:
                continue
            for word in words:
                if re.fullmatch(r"[a-z0-9]+(_[A-Za-z0-9]+)+", word) and word not in known:
                    unknown.append("%s: %s" % (f, word))
    assert not unknown, "pages list parameters that postconf -d does not know:\n" + \
        "\n".join(unknown)


# mkman.sh refuses what does not match


def test_mkman_fails_on_missing_and_unknown_descriptions():
    tmp = tempfile.mkdtemp(prefix="test_man.")
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(MAN_SRC, src)
        params = open(os.path.join(src, "postconf.5.params")).read()
        # drop the description of relayhost, add one for a parameter that
        # does not exist
        params, n = re.subn(r"(?m)^relayhost\n(?:[ \t]+.*\n)+", "", params)
        assert n == 1
        params += "\nno_such_parameter_xyz\n    Described, but postconf -d has no such name.\n"
        open(os.path.join(src, "postconf.5.params"), "w").write(params)
        r = mkman(os.path.join(tmp, "out"), src)
        assert r.returncode == 1, r.stdout + r.stderr
        assert re.search(r"(?m)^  relayhost$", r.stderr), r.stderr
        assert re.search(r"(?m)^  no_such_parameter_xyz \(line \d+\)$", r.stderr), r.stderr
        assert not os.path.exists(os.path.join(tmp, "out", "postconf.5"))
    finally:
        shutil.rmtree(tmp)


def test_mkman_fails_on_unknown_page_parameter():
    tmp = tempfile.mkdtemp(prefix="test_man.")
    try:
        src = os.path.join(tmp, "src")
        shutil.copytree(MAN_SRC, src)
        with open(os.path.join(src, "posthorn.1"), "a") as f:
            f.write("See @no_such_parameter_xyz@.\n")
        r = mkman(os.path.join(tmp, "out"), src)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "unknown parameter @no_such_parameter_xyz@" in r.stderr, r.stderr
    finally:
        shutil.rmtree(tmp)
