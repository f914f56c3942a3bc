#!/usr/bin/env python3
"""malformed.py OUTDIR [SOURCE...]: write a corpus of malformed spectrum
files into OUTDIR (generated at test time, never committed).

From every SOURCE file (real files of every format: spectra/, calcspec's
own writers, ../shared/formats when present): three truncations and four
kinds of byte damage (seeded, so a failure can be reproduced).
Then crafted files: NaN/Inf/huge numbers, absurd header sizes, XML bombs
(billion laughs, external entities), zip bombs (ProcSpec is a zip), deep
nesting, control characters in the text a reason might quote.

Writes OUTDIR/MANIFEST: one line "file<TAB>format" per file, format the
reader the source belongs to ("-" for crafted files of several kinds).
Standard library only."""
import io
import os
import random
import struct
import sys
import zipfile

out = sys.argv[1]
sources = sys.argv[2:]
os.makedirs(out, exist_ok=True)
manifest = []
rng = random.Random(12)  # fixed: the same corpus every run


def put(name, data, fmt="-"):
    path = os.path.join(out, "%03d-%s" % (len(manifest), name))
    with open(path, "wb") as f:
        f.write(data)
    manifest.append((path, fmt))


def fmt_of(path):
    p = path.lower()
    for ext, fmt in ((".animl", "animl"), (".jdx", "jcamp"), (".dx", "jcamp"),
                     (".jcm", "jcamp"), (".csv", "csv"), (".txt", "csv"),
                     (".tsv", "csv"), (".gaml", "gaml"), (".xml", "labspec_xml"),
                     (".tvf", "trivista"), (".spe", "spe"),
                     (".procspec", "procspec")):
        if p.endswith(ext):
            return fmt
    return "-"


# ---- mutations of real files ----
for src in sources:
    with open(src, "rb") as f:
        data = f.read()
    if not data:
        continue
    base = os.path.basename(src).replace(" ", "_")
    fmt = fmt_of(src)
    n = len(data)
    for frac in (0.1, 0.5, 0.97):
        k = max(1, min(n - 1, int(n * frac)))
        put("trunc%g-%s" % (frac, base), data[:k], fmt)
    b = bytearray(data)  # 20 random bytes anywhere
    for _ in range(20):
        b[rng.randrange(n)] = rng.randrange(256)
    put("flip20-" + base, bytes(b), fmt)
    b = bytearray(data)  # 0xFFFFFFFF size words in the first 4 KiB
    for _ in range(8):
        o = rng.randrange(0, max(1, min(n, 4096) - 4)) & ~3
        b[o:o + 4] = b"\xff\xff\xff\xff"
    put("ffff-" + base, bytes(b), fmt)
    k = rng.randrange(n)  # a range deleted from the middle
    put("cut-" + base, data[:k] + data[k + max(1, n // 7):], fmt)
    b = bytearray(data)  # digits replaced by nan / 1e999
    pos = [i for i in range(min(n, 200000)) if 48 <= data[i] <= 57]
    for i in rng.sample(pos, min(10, len(pos))):
        b[i:i + 1] = rng.choice([b"nan", b"1e999", b"-inf", b"9" * 30])
    put("nan-" + base, bytes(b), fmt)

# ---- crafted: numbers ----
for name, v in (("nan", "nan"), ("inf", "inf"), ("neginf", "-inf"),
                ("overflow", "1e999"), ("max", "1.7976931348623157e308"),
                ("denormal", "4.9e-324"), ("long", "1" * 400)):
    put("csv-%s.csv" % name, ("x,y\n100,1\n101,%s\n102,3\n" % v).encode(), "csv")
put("csv-wide.csv", b"1" + b",1" * 300000 + b"\n2" + b",2" * 300000 + b"\n", "csv")
put("csv-nul.csv", b"x,y\n1,2\x00\n2,3\n", "csv")
put("csv-esc.csv", b"x,y\n1,2\n2,\x1b[2J\x1b]0;pwned\x07\n3,4\n", "csv")
put("csv-utf16.csv", "x,y\n1,2\n2,3\n".encode("utf-16"), "csv")
put("csv-blank-lines.csv", b"\n" * 200000, "csv")
put("csv-desc-dup-x.csv", b"1,1\n1,2\n1,3\n", "csv")

JH = ("##TITLE= crafted\n##JCAMP-DX= 4.24\n##DATA TYPE= RAMAN SPECTRUM\n"
      "##XUNITS= 1/CM\n##YUNITS= COUNTS\n")


def jdx(hdr, data):
    return (JH + hdr + data + "##END=\n").encode()


put("jcamp-npoints-huge.jdx", jdx("##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= 4294967295\n"
                                  "##XYDATA= (X++(Y..Y))\n", "1 1 2 3\n"), "jcamp")
put("jcamp-npoints-neg.jdx", jdx("##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= -3\n"
                                 "##XYDATA= (X++(Y..Y))\n", "1 1 2 3\n"), "jcamp")
put("jcamp-yfactor.jdx", jdx("##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= 3\n##YFACTOR= 1e308\n"
                             "##XYDATA= (X++(Y..Y))\n", "1 10 20 30\n"), "jcamp")
put("jcamp-firstx-nan.jdx", jdx("##FIRSTX= nan\n##LASTX= 3\n##NPOINTS= 3\n"
                                "##XYDATA= (X++(Y..Y))\n", "1 1 2 3\n"), "jcamp")
put("jcamp-dup-huge.jdx", jdx("##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= 3\n"
                              "##XYDATA= (X++(Y..Y))\n", "1 A0U99999999999\n"), "jcamp")
put("jcamp-dif-overflow.jdx", jdx("##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= 3\n"
                                  "##XYDATA= (X++(Y..Y))\n",
                                  "1 A9999999999999999999J9999999999999999999J99999999999999999999\n"),
    "jcamp")
# a CR inside a value: the reason quoting it once spanned two lines
put("jcamp-cr-value.jdx", jdx("##FIRSTX= 1\r2\n##LASTX= 3\n##NPOINTS= 3\n"
                              "##XYDATA= (X++(Y..Y))\n", "1 1 2 3\n"), "jcamp")
put("jcamp-esc-units.jdx", (JH.replace("1/CM", "\x1b[31mfurlongs\x1b[0m") +
                            "##FIRSTX= 1\n##LASTX= 3\n##NPOINTS= 3\n##XYDATA= (X++(Y..Y))\n"
                            "1 1 2 3\n##END=\n").encode(), "jcamp")
put("jcamp-link-blocks.jdx", ("##TITLE= link\n##JCAMP-DX= 5.01\n##BLOCKS= 99999999999\n" +
                              "##TITLE= b\n" * 3000 + "##END=\n").encode(), "jcamp")
put("jcamp-deep-link.jdx", ("##TITLE= x\n##JCAMP-DX= 5.01\n##BLOCKS= 2\n" * 20000).encode(),
    "jcamp")

# ---- crafted: XML ----
NS = 'xmlns="urn:org:astm:animl:schema:core:draft:0.90"'
LOL = ('<?xml version="1.0"?>\n<!DOCTYPE %s [\n <!ENTITY lol "lol">\n' +
       "".join(' <!ENTITY lol%d "%s">\n' % (i, ("&lol%d;" % (i - 1) if i else "&lol;") * 10)
               for i in range(10)) + ']>\n')
for root, ext, fmt, body in (
        ("AnIML", "animl", "animl", "<AnIML %s><SampleSet>&lol9;</SampleSet></AnIML>" % NS),
        ("GAML", "gaml", "gaml", "<GAML><Experiment><Trace>&lol9;</Trace></Experiment></GAML>"),
        ("LSX_Data", "xml", "labspec_xml", "<LSX_Data><LSX>&lol9;</LSX></LSX_Data>"),
        ("XmlMain", "tvf", "trivista", "<!--TriVista-File--><XmlMain>&lol9;</XmlMain>")):
    put("bomb-%s.%s" % (root, ext), ((LOL % root) + body).encode(), fmt)
    put("xxe-%s.%s" % (root, ext),
        ('<?xml version="1.0"?>\n<!DOCTYPE %s [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
         % root + body.replace("&lol9;", "&x;")).encode(), fmt)
put("deep.animl", ("<AnIML %s>" % NS + "<a>" * 100000 + "</a>" * 100000 + "</AnIML>").encode(),
    "animl")
put("deep.gaml", ("<GAML>" + "<Experiment>" * 50000 + "</Experiment>" * 50000 + "</GAML>").encode(),
    "gaml")
SER = ('<AnIML %s><ExperimentStepSet><ExperimentStep name="s"><Result name="r">'
       '<SeriesSet name="ss" length="%s">'
       '<Series name="x" seriesID="x" seriesType="Float64" dependency="independent">'
       '%s</Series>'
       '<Series name="y" seriesID="y" seriesType="Float64" dependency="dependent">'
       '<IndividualValueSet><D>1</D><D>2</D><D>3</D></IndividualValueSet></Series>'
       '</SeriesSet></Result></ExperimentStep></ExperimentStepSet></AnIML>')
IVS = "<IndividualValueSet><D>1</D><D>%s</D><D>3</D></IndividualValueSet>"
put("animl-nan.animl", (SER % (NS, 3, IVS % "NaN")).encode(), "animl")
put("animl-inf.animl", (SER % (NS, 3, IVS % "INF")).encode(), "animl")
put("animl-length-huge.animl", (SER % (NS, "99999999999999999999", IVS % "2")).encode(), "animl")
put("animl-autoinc-huge.animl",
    (SER % (NS, "4294967295", '<AutoIncrementedValueSet endIndex="4294967294"><StartValue><D>0</D>'
            '</StartValue><Increment><D>0</D></Increment></AutoIncrementedValueSet>')).encode(), "animl")
put("animl-b64-bad.animl",
    (SER % (NS, 3, '<EncodedValueSet>%s</EncodedValueSet>' % ("!!!!" * 1000))).encode(), "animl")
put("gaml-count-huge.gaml",
    b'<GAML><Experiment><Trace technique="RAMAN"><Coordinates units="WAVENUMBER" valueOrder="UNSPECIFIED">'
    b'<values format="FLOAT64" byteOrder="INTEL" numValues="4294967295">AAAAAAAA8D8=</values>'
    b'</Coordinates><Xdata units="WAVENUMBER"><values format="FLOAT64" byteOrder="INTEL" '
    b'numValues="4294967295">AAAAAAAA8D8=</values></Xdata><Ydata units="COUNTS">'
    b'<values format="FLOAT64" byteOrder="INTEL" numValues="99999999999999">AAAAAAAA8D8=</values>'
    b'</Ydata></Trace></Experiment></GAML>', "gaml")

# ---- crafted: SPE headers with absurd sizes ----
for name, ver, xdim, ydim, frames in (("v2-huge", 2.5, 0xFFFF, 0xFFFF, 0x7FFFFFFF),
                                      ("v2-neg", 2.5, 0xFFFF, 1, -1),
                                      ("v3-footer", 3.0, 1024, 1, 1)):
    h = bytearray(4100)
    struct.pack_into("<I", h, 2996, 0x01234567)
    struct.pack_into("<f", h, 1992, ver)
    struct.pack_into("<H", h, 42, xdim)
    struct.pack_into("<H", h, 656, ydim)
    struct.pack_into("<h", h, 108, 3)  # uint16 pixels
    struct.pack_into("<i", h, 1446, frames)
    struct.pack_into("<Q", h, 678, 0xFFFFFFFFFFFFFFF0 if ver >= 3 else 0)
    put("spe-%s.spe" % name, bytes(h) + b"\x01\x00" * 64, "spe")

# ---- crafted: ProcSpec zips ----


def zipped(entries, method=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as z:
        for name, data in entries:
            z.writestr(name, data)
    return buf.getvalue()


SIG = b'<?xml version="1.0"?><OOISignatures></OOISignatures>'
# 256 MiB of spaces in ps_0.xml: a zip bomb (~250 KB compressed)
bomb = io.BytesIO()
with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("OOISignatures.xml", SIG)
    with z.open("ps_0.xml", "w", force_zip64=True) as f:
        chunk = b" " * (1 << 20)
        for _ in range(256):
            f.write(chunk)
put("zipbomb.ProcSpec", bomb.getvalue(), "procspec")
put("zip-many.ProcSpec", zipped([("OOISignatures.xml", SIG)] +
                                [("ps_%d.xml" % i, b"<a/>") for i in range(5000)]), "procspec")
nested = zipped([("OOISignatures.xml", SIG), ("ps_0.xml", zipped([("ps_0.xml", b"<a/>" * 1000)]))])
put("zip-nested.ProcSpec", nested, "procspec")
z = bytearray(zipped([("OOISignatures.xml", SIG), ("ps_0.xml", b"<a>" + b"1 " * 5000 + b"</a>")]))
i = z.find(b"PK\x01\x02")  # central directory: claim a 4 GiB entry
while i >= 0:
    z[i + 24:i + 28] = b"\xff\xff\xff\xfe"
    i = z.find(b"PK\x01\x02", i + 4)
put("zip-size-lie.ProcSpec", bytes(z), "procspec")
put("zip-deep-xml.ProcSpec", zipped([("OOISignatures.xml", SIG),
                                     ("ps_0.xml", b"<a>" * 100000 + b"</a>" * 100000)]), "procspec")
put("zip-bomb-xml.ProcSpec", zipped([("OOISignatures.xml", SIG),
                                     ("ps_0.xml", ((LOL % "a") + "<a>&lol9;</a>").encode())]),
    "procspec")
put("zip-truncated.ProcSpec", bomb.getvalue()[:3000], "procspec")

# ---- crafted: misc ----
put("empty.csv", b"", "csv")
put("one-byte", b"<")
put("random.bin", bytes(rng.randrange(256) for _ in range(65536)))
put("nul.bin", b"\x00" * 4096)
put("xml-only-decl.animl", b'<?xml version="1.0" encoding="UTF-16"?>', "animl")

with open(os.path.join(out, "MANIFEST"), "w") as f:
    for path, fmt in manifest:
        f.write("%s\t%s\n" % (path, fmt))
print("malformed: %d files" % len(manifest))
