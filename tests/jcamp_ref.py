#!/usr/bin/env python3
"""jcamp_ref.py: independent reference decoder for JCAMP-DX (X++(Y..Y)) and
(XY..XY) blocks (regex tokeniser), used to derive the expectations in
tests/test_jcamp.c.  Usage: python3 tests/jcamp_ref.py FILE...  Prints per
block: points, first/last x, first/last y (times YFACTOR; JCAMP
TRANSMITTANCE fractions are NOT converted to percent here)."""
import re, sys

SQZ = {'@': 0, **{c: i + 1 for i, c in enumerate('ABCDEFGHI')}, **{c: -(i + 1) for i, c in enumerate('abcdefghi')}}
DIF = {'%': 0, **{c: i + 1 for i, c in enumerate('JKLMNOPQR')}, **{c: -(i + 1) for i, c in enumerate('jklmnopqr')}}
DUP = {**{c: i + 1 for i, c in enumerate('STUVWXYZ')}, 's': 9}
TOK = re.compile(r'([+-]?\d*\.?\d+(?:[eE][+-]\d+)?)|([@A-Ia-i])(\d*\.?\d*)|([%J-Rj-r])(\d*\.?\d*)|([S-Zs])(\d*)|([\s,;]+)')

def tokens(line):
    pos = 0
    out = []
    while pos < len(line):
        m = TOK.match(line, pos)
        if not m or m.end() == pos:
            raise ValueError('bad char %r in %r' % (line[pos], line))
        pos = m.end()
        if m.group(1) is not None:
            out.append(('A', float(m.group(1))))
        elif m.group(2):
            v = SQZ[m.group(2)]
            d = m.group(3)
            val = float(str(abs(v)) + d) if d else abs(v)
            out.append(('A', -val if v < 0 else val))
        elif m.group(4):
            v = DIF[m.group(4)]
            d = m.group(5)
            val = float(str(abs(v)) + d) if d else abs(v)
            out.append(('D', -val if v < 0 else val))
        elif m.group(6):
            d = m.group(7)
            out.append(('U', int(str(DUP[m.group(6)]) + d)))
    return out

def label(line):
    m = re.match(r'\s*##([^=]*)=(.*)', line)
    if not m:
        return None
    return re.sub(r'[\s\-/_]', '', m.group(1)).upper(), m.group(2).split('$$')[0].strip()

def blocks(text):
    cur = {}
    data = None
    for raw in text.splitlines():
        line = raw.split('$$')[0]
        lab = label(line)
        if lab:
            k, v = lab
            data = None
            if k == 'END':
                if 'lines' in cur:
                    yield cur
                cur = {}
                continue
            if k in ('XYDATA', 'XYPOINTS'):
                cur['form'] = v
                cur['lines'] = []
                data = cur['lines']
            else:
                cur.setdefault(k, v)
            continue
        if data is not None and line.strip():
            data.append(line.strip())

def num(v, comma):
    return float(v.replace(',', '.') if comma else v)

def decode(b):
    comma = ',' in b.get('FIRSTX', '') and '.' not in b.get('FIRSTX', '')
    xf = num(b.get('XFACTOR', '1'), comma)
    yf = num(b.get('YFACTOR', '1'), comma)
    if '++' in b['form']:
        ys = []
        prev_dif = False
        for line in b['lines']:
            t = tokens(line)
            ys_line = []
            last = None
            lastkind = None
            for kind, v in t[1:]:
                if kind == 'A':
                    last = v; ys_line.append(v); lastkind = 'A'
                elif kind == 'D':
                    last = ys_line[-1] + v; ys_line.append(last); lastkind = 'D'; lastdif = v
                else:
                    for _ in range(v - 1):
                        if lastkind == 'D':
                            ys_line.append(ys_line[-1] + lastdif)
                        else:
                            ys_line.append(ys_line[-1])
            if prev_dif and ys:
                assert ys_line and abs(ys_line[0] - ys[-1]) < 1e-9, ('ycheck', line, ys_line[:1], ys[-1])
                ys_line = ys_line[1:]
            ys.extend(ys_line)
            prev_dif = lastkind == 'D'
        n = len(ys)
        fx, lx = num(b['FIRSTX'], comma), num(b['LASTX'], comma)
        um = 1000.0 if b.get('XUNITS', '').upper().startswith('MICRO') else 1.0
        return n, fx * um, lx * um, ys[0] * yf, ys[-1] * yf
    vals = []
    for line in b['lines']:
        if comma:
            parts = re.split(r',\s+|\s+|;', line)
        else:
            parts = re.split(r'[\s,;]+', line)
        vals.extend(float(p.replace(',', '.')) for p in parts if p)
    xs, ys = vals[0::2], vals[1::2]
    return len(xs), xs[0] * xf, xs[-1] * xf, ys[0] * yf, ys[-1] * yf

for path in sys.argv[1:]:
    text = open(path, encoding='latin-1').read()
    for b in blocks(text):
        try:
            r = decode(b)
            print('%s\t%s\tnpoints=%s\tn=%d\tfirstx=%.17g\tlastx=%.17g\tfirsty=%.17g\tlasty=%.17g\tNP=%s FX=%s LX=%s FY=%s' % (
                path.split('/')[-1], b.get('TITLE', ''), b.get('NPOINTS'), *r, b.get('NPOINTS'), b.get('FIRSTX'), b.get('LASTX'), b.get('FIRSTY')))
        except Exception as e:
            print('%s\t%s\tERROR %r' % (path.split('/')[-1], b.get('TITLE', ''), e))
