#!/usr/bin/env python3
"""Per-port comparison for bench/scan.sh: what mamori's scanner and nmap -sV each identified on
the daemons the script started, against what was really running there.

Usage: scan-compare.py MANIFEST.tsv MAMORI.json NMAP.xml [RUSTSCAN_PORTS]

MANIFEST.tsv (written by scan.sh), one line per port, tab-separated:
    proto  port  daemon-label  truth-regex  version-regex
truth-regex must match (case-insensitively) the tool's "name product version extra" text for the
port to count as correctly identified; version-regex (or "-") must match its version field.

"Identified" for the agreement column means the tool named a product, or at least a service name
it got from a protocol conversation (nmap method="probed", mamori method "probed"); a name taken
from a port-number table, "unknown" or "tcpwrapped" is not an identification.
"""

import json
import re
import sys
import xml.etree.ElementTree as ET

GENERIC = {"", "unknown", "tcpwrapped"}


def load_manifest(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            proto, port, label, truth, ver = line.split("\t")
            rows.append((proto, int(port), label, truth, None if ver == "-" else ver))
    return rows


def load_mamori(path):
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    out = {}
    for host in report.get("hosts", []):
        for p in host.get("ports", []):
            s = p.get("service") or {}
            extra = s.get("extra") or {}
            out[(p["proto"], p["port"])] = {
                "state": p.get("state", ""),
                "name": s.get("name") or "",
                "product": s.get("product") or "",
                "version": s.get("version") or "",
                "extra": " ".join(f"{k}={v}" for k, v in sorted(extra.items()) if k != "note"),
                "probed": s.get("method") == "probed",
            }
    return out


def load_nmap(path):
    out = {}
    root = ET.parse(path).getroot()
    for port in root.iter("port"):
        state = port.find("state")
        svc = port.find("service")
        a = svc.attrib if svc is not None else {}
        out[(port.get("protocol"), int(port.get("portid")))] = {
            "state": state.get("state") if state is not None else "",
            "name": a.get("name", ""),
            "product": a.get("product", ""),
            "version": a.get("version", ""),
            "extra": a.get("extrainfo", ""),
            "probed": a.get("method") == "probed",
            "tunnel": a.get("tunnel", ""),
        }
    return out


def norm(s):
    return re.sub(r"[^a-z0-9]", "", s.lower())


def identified(r):
    if r is None:
        return False
    if r["product"]:
        return True
    return r["probed"] and r["name"] not in GENERIC


def same(a, b, both_right):
    """Both identified the same thing: both name the daemon that really runs there, or their
    products match (one contains the other after normalising), or, when neither has a product,
    their probed service names match."""
    if both_right:
        return True
    pa, pb = norm(a["product"]), norm(b["product"])
    if pa and pb:
        return pa in pb or pb in pa
    if pa or pb:
        return False
    na, nb = norm(a["name"]), norm(b["name"])
    return na == nb or (na and nb and (na in nb or nb in na))


def text(r):
    return " ".join(x for x in (r["name"], r["product"], r["version"], r["extra"]) if x) if r else ""


def judge(r, truth, ver):
    """'ok' = identified as the real daemon, '+v' = with its version (anywhere in what the tool
    reported: nmap sometimes puts it in the service name); 'guess' = only a port-number guess
    that happens to be right; '--' = not identified or wrong."""
    if r is None:
        return False, False, "--"
    right = re.search(truth, text(r), re.I) is not None
    if not identified(r):
        return False, False, "guess" if right else "--"
    vok = right and ver is not None and re.search(ver, text(r), re.I) is not None
    return right, vok, ("ok" if right else "--") + ("+v" if vok else "")


def cell(r):
    if r is None:
        return "(not reported)"
    if r["state"] not in ("open", "open|filtered", "open_filtered"):
        return f"({r['state']})"
    name = r["name"] or "unknown"
    if r.get("tunnel"):
        name = f"{r['tunnel']}/{name}"
    if not r["probed"] and not r["product"]:
        name += "?"  # port-table guess
    parts = [name]
    if r["product"]:
        parts.append(r["product"])
    if r["version"]:
        parts.append(r["version"])
    return " / ".join(parts)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    manifest = load_manifest(sys.argv[1])
    mamori = load_mamori(sys.argv[2])
    nmap = load_nmap(sys.argv[3])
    rust = set()
    if len(sys.argv) > 4 and sys.argv[4].strip():
        rust = {int(x) for x in re.split(r"[,\s]+", sys.argv[4].strip()) if x.isdigit()}

    rows = []
    score = {"mamori": [0, 0], "nmap": [0, 0]}  # [correct product/service, correct version]
    ver_total = 0
    agree_counts = {}
    for proto, port, label, truth, ver in manifest:
        m = mamori.get((proto, port))
        n = nmap.get((proto, port))
        flags, right = {}, {}
        for tool, r in (("mamori", m), ("nmap", n)):
            ok, vok, flags[tool] = judge(r, truth, ver)
            right[tool] = ok
            score[tool][0] += ok
            score[tool][1] += vok
        ver_total += ver is not None
        im, inm = identified(m), identified(n)
        if im and inm:
            agree = "both: same" if same(m, n, right["mamori"] and right["nmap"]) else "both: differ"
        elif im:
            agree = "only mamori"
        elif inm:
            agree = "only nmap"
        else:
            agree = "neither"
        agree_counts[agree] = agree_counts.get(agree, 0) + 1
        row = [f"{port}/{proto}", label, cell(m), flags["mamori"], cell(n), flags["nmap"], agree]
        if rust:
            row.insert(-1, "open" if port in rust else ("-" if proto == "tcp" else "n/a"))
        rows.append(row)

    head = ["port", "daemon (truth)", "mamori: service / product / version", "m", "nmap: service / product / version", "n", "agreement"]
    if rust:
        head.insert(-1, "rustscan")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    for r in rows:
        print("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    n = len(manifest)
    print()
    print("m/n columns: ok = names the daemon that really runs there, +v = and its exact version, "
          "guess = only a port-number guess (trailing ?) that happens to fit, -- = not identified or wrong.")
    print(f"identified correctly: mamori {score['mamori'][0]}/{n}, nmap {score['nmap'][0]}/{n}; "
          f"version correct: mamori {score['mamori'][1]}/{ver_total}, nmap {score['nmap'][1]}/{ver_total}")
    print("agreement: " + ", ".join(f"{k} {v}" for k, v in sorted(agree_counts.items())))


if __name__ == "__main__":
    main()
