"""_build_backend.py: a PEP 517 build backend for the calcspec package in
the standard library only, so that `pip install ./src/python` works with no
package index (pip's isolated build environment starts empty).  It builds a
pure-Python wheel of calcspec/ and an sdist of this directory."""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

_HERE = os.path.dirname(os.path.abspath(__file__))


def _project():
    text = open(os.path.join(_HERE, "pyproject.toml"), encoding="utf-8").read()
    proj = text[text.index("[project]"):]

    def field(k):
        return re.search(r'^%s = "([^"]*)"' % k, proj, re.M).group(1)
    return field("name"), field("version"), field("description")


def _metadata():
    name, version, summary = _project()
    return ("Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: %s\n"
            "Requires-Python: >=3.7\nProvides-Extra: numpy\n"
            "Requires-Dist: numpy; extra == \"numpy\"\n" % (name, version, summary))


def _files():
    pkg = os.path.join(_HERE, "calcspec")
    return sorted("calcspec/" + f for f in os.listdir(pkg) if f.endswith(".py"))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def _dist_info(name, version):
    return "%s-%s.dist-info" % (name, version)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name, version, _ = _project()
    d = os.path.join(metadata_directory, _dist_info(name, version))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "METADATA"), "w", encoding="utf-8") as f:
        f.write(_metadata())
    return os.path.basename(d)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name, version, _ = _project()
    di = _dist_info(name, version)
    whl = "%s-%s-py3-none-any.whl" % (name, version)
    entries = [(f, open(os.path.join(_HERE, f), "rb").read()) for f in _files()]
    entries.append((di + "/METADATA", _metadata().encode()))
    entries.append((di + "/WHEEL", b"Wheel-Version: 1.0\nGenerator: "
                    b"calcspec _build_backend\nRoot-Is-Purelib: true\n"
                    b"Tag: py3-none-any\n"))
    record = []
    with zipfile.ZipFile(os.path.join(wheel_directory, whl), "w",
                         zipfile.ZIP_DEFLATED) as z:
        for path, data in entries:
            z.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest())
            record.append("%s,sha256=%s,%d" % (path, digest.rstrip(b"=").decode(),
                                               len(data)))
        record.append(di + "/RECORD,,")
        z.writestr(di + "/RECORD", "\n".join(record) + "\n")
    return whl


def build_sdist(sdist_directory, config_settings=None):
    name, version, _ = _project()
    base = "%s-%s" % (name, version)
    out = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, out), "w:gz") as t:
        for f in ["pyproject.toml", "_build_backend.py", "README.md"] + _files():
            t.add(os.path.join(_HERE, f), arcname=base + "/" + f)
        pkg = _metadata().encode()
        info = tarfile.TarInfo(base + "/PKG-INFO")
        info.size = len(pkg)
        t.addfile(info, io.BytesIO(pkg))
    return out
