#!/usr/bin/env python3
"""The bench/detect report: recall on the hostile corpus, holds on the benign set.

usage: detect-report.py WORK_DIR TEXT_OUT JSON_OUT

WORK_DIR (written by bench/detect) holds hostile/manifest.json (detect-build.py),
benign.txt (one benign file per line), wharf.jsonl (`wharf scan --json`, one
object per file), guarddog/<file>.json|.err|.rc (one `guarddog pypi scan` per
file), guarddog.skipped (files it had no time for), meta.json (versions, times,
notes). Prints the table to TEXT_OUT and every per-file result to JSON_OUT.

Caught, by tool:
- Wharf holds a file when its verdict is quarantine or block. A hostile sample
  counts as caught only when a content rule (code.*, install.*, binary.*) holds
  it: a hold by a name rule (name.*) would be an artefact of the corpus's
  synthetic project names, and a structure rule (archive.*, wheel.*, sdist.*,
  metadata.*) would mean the builder made an invalid archive; both are
  reported, and the latter fails the run.
- GuardDog "catches" a file when any threat-* rule fires on it (the criterion
  of bench/scan and issue 15). Its own risk label at "suspicious" or
  "high_risk" is shown beside it. A GuardDog error (it refused or crashed on a
  file) is counted as not caught and listed.
"""
import json
import os
import sys
from collections import Counter, defaultdict

HOLD = {"quarantine", "block"}
STRUCTURE = ("archive.", "wheel.", "sdist.", "metadata.")
GD_LABELS_HELD = {"suspicious", "high_risk"}


def load_json(path, default):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def pct(a, b):
    return f"{100 * a / b:5.1f}%" if b else "    -"


def clip(s, k=80):
    s = " ".join(str(s or "").split())
    return s if len(s) <= k else s[: k - 3] + "..."


def main():
    work, text_out, json_out = sys.argv[1:4]
    manifest = load_json(os.path.join(work, "hostile", "manifest.json"), [])
    meta = load_json(os.path.join(work, "meta.json"), {})
    benign = []
    if os.path.exists(os.path.join(work, "benign.txt")):
        benign = [l.strip() for l in open(os.path.join(work, "benign.txt")) if l.strip()]
    skipped_gd = set()
    if os.path.exists(os.path.join(work, "guarddog.skipped")):
        skipped_gd = {l.strip() for l in open(os.path.join(work, "guarddog.skipped")) if l.strip()}

    wharf = {}
    wpath = os.path.join(work, "wharf.jsonl")
    if meta.get("wharf_ran") and os.path.exists(wpath):
        for line in open(wpath, encoding="utf-8"):
            if line.strip():
                o = json.loads(line)
                wharf[o["file"]] = o

    def gd_result(path):
        if not meta.get("guarddog_ran"):
            return None
        if path in skipped_gd:
            return {"status": "skipped"}
        base = os.path.join(work, "guarddog", os.path.basename(path))
        rc = open(base + ".rc").read().strip() if os.path.exists(base + ".rc") else "?"
        o = load_json(base + ".json", None)
        if not isinstance(o, dict) or "results" not in o:
            err = ""
            if os.path.exists(base + ".err"):
                lines = [l for l in open(base + ".err", errors="replace")
                         if "Network error" not in l and "Failed to download" not in l and l.strip()]
                err = clip(" ".join(lines[-3:]), 160)
            return {"status": "error", "rc": rc, "error": err}
        threats = sorted(r for r, hits in (o.get("results") or {}).items() if hits and r.startswith("threat"))
        others = sorted(r for r, hits in (o.get("results") or {}).items() if hits and not r.startswith("threat"))
        rs = o.get("risk_score") or {}
        return {"status": "ok", "rc": rc, "threat_rules": threats, "other_rules": others,
                "label": rs.get("label"), "score": rs.get("score")}

    def wharf_result(path):
        o = wharf.get(path)
        if o is None:
            return None
        findings = o.get("findings") or []
        held_by = sorted({f["rule"] for f in findings if f["severity"] in HOLD})
        content = [r for r in held_by if not r.startswith(STRUCTURE) and not r.startswith("name.")]
        return {
            "verdict": o["verdict"],
            "held": o["verdict"] in HOLD,
            "held_by_content": bool(content) and o["verdict"] in HOLD,
            "hold_rules": held_by,
            "findings": [
                {"rule": f["rule"], "severity": f["severity"], "file": f.get("file"), "line": f.get("line"),
                 "evidence": clip(f.get("evidence"), 160)}
                for f in findings
            ],
        }

    samples = []
    for m in manifest:
        samples.append(dict(m, wharf=wharf_result(m["file"]), guarddog=gd_result(m["file"])))
    benign_rows = [{"file": b, "wharf": wharf_result(b), "guarddog": gd_result(b)} for b in benign]

    has_w = bool(wharf)
    has_g = bool(meta.get("guarddog_ran"))

    def w_caught(s):
        return bool(s["wharf"] and s["wharf"]["held_by_content"])

    def g_caught(s):
        g = s["guarddog"]
        return bool(g and g.get("status") == "ok" and g["threat_rules"])

    def g_label(s):
        g = s["guarddog"]
        return bool(g and g.get("status") == "ok" and g.get("label") in GD_LABELS_HELD)

    out = []
    p = out.append
    n = len(samples)
    p(f"Detection quality — {meta.get('date', '?')} — {meta.get('cores', '?')} cores")
    p(f"wharf: {meta.get('wharf_version', '?')}; {meta.get('wharf_note') or 'scan --json, one process over every file'}"
      + (f", {meta['wharf_seconds']} s" if meta.get("wharf_seconds") else ""))
    if has_g:
        p(f"guarddog: {meta.get('guarddog_version', '?')} ({meta.get('guarddog_args') or 'kernel sandbox on'}), one process per file, "
          f"{meta.get('guarddog_seconds', '?')} s in all" + (f"; {len(skipped_gd)} files skipped at the time budget" if skipped_gd else ""))
    else:
        p(f"guarddog: {meta.get('guarddog_note', 'not run')}")
    p(f"hostile corpus: {n} samples in {len(set(s['technique'] for s in samples))} techniques "
      f"({', '.join(f'{k} {v}' for k, v in sorted(Counter(s['origin'] for s in samples).items()))}); "
      f"benign: {len(benign)} files ({meta.get('benign_note') or 'scripts/popular-wheels'})")
    p("Caught: Wharf = verdict quarantine/block by a content rule; GuardDog = a threat-* rule fired "
      "(its own label suspicious/high_risk in brackets).")
    p("")

    # ---- overall ----
    wc = sum(w_caught(s) for s in samples)
    gc = sum(g_caught(s) for s in samples)
    gl = sum(g_label(s) for s in samples)
    bw = [r for r in benign_rows if r["wharf"] and r["wharf"]["held"]]
    bg = [r for r in benign_rows if r["guarddog"] and r["guarddog"].get("status") == "ok" and r["guarddog"]["threat_rules"]]
    bgl = [r for r in benign_rows if r["guarddog"] and r["guarddog"].get("status") == "ok" and r["guarddog"].get("label") in GD_LABELS_HELD]
    bge = [r for r in benign_rows if r["guarddog"] and r["guarddog"].get("status") == "error"]
    hge = [s for s in samples if s["guarddog"] and s["guarddog"].get("status") == "error"]
    p(f"{'':<28}{'wharf':>16}{'guarddog':>16}{'guarddog label':>18}")
    p(f"{'recall (hostile caught)':<28}{(f'{wc}/{n} ' + pct(wc, n)) if has_w else '-':>16}"
      f"{(f'{gc}/{n} ' + pct(gc, n)) if has_g else '-':>16}{(f'{gl}/{n} ' + pct(gl, n)) if has_g else '-':>18}")
    nb = len(benign_rows)
    p(f"{'benign files held':<28}{(f'{len(bw)}/{nb} ' + pct(len(bw), nb)) if has_w and nb else '-':>16}"
      f"{(f'{len(bg)}/{nb} ' + pct(len(bg), nb)) if has_g and nb else '-':>16}"
      f"{(f'{len(bgl)}/{nb} ' + pct(len(bgl), nb)) if has_g and nb else '-':>18}")
    if has_g:
        p(f"guarddog errors (refused or crashed, not counted as caught): hostile {len(hge)}, benign {len(bge)}")
    both = sum(1 for s in samples if w_caught(s) and g_caught(s))
    neither = [s for s in samples if not w_caught(s) and not g_caught(s)]
    if has_w and has_g:
        p(f"caught by both {both}, only wharf {wc - both}, only guarddog {gc - both}, by neither {len(neither)}")
    p("")

    # ---- per technique ----
    by_t = defaultdict(list)
    for s in samples:
        by_t[s["technique"]].append(s)
    p(f"{'technique':<26}{'n':>3}  {'wharf':>7}  {'guarddog':>8}   wharf misses")
    p("-" * 100)
    for t in sorted(by_t):
        ss = by_t[t]
        w = sum(w_caught(s) for s in ss)
        g = sum(g_caught(s) for s in ss)
        misses = ",".join(s["id"].rsplit("-", 1)[-1] if s["id"].startswith(t) else s["id"] for s in ss if not w_caught(s))
        p(f"{t:<26}{len(ss):>3}  {f'{w}/{len(ss)}' if has_w else '-':>7}  {f'{g}/{len(ss)}' if has_g else '-':>8}   {clip(misses, 55)}")
    p("")

    # ---- by where code runs, and by origin ----
    for key, title in (("runs", "where the code runs"), ("origin", "origin")):
        groups = defaultdict(list)
        for s in samples:
            groups[s[key]].append(s)
        p(f"by {title}: " + "; ".join(
            f"{k} {sum(w_caught(s) for s in v)}/{len(v)} wharf, {sum(g_caught(s) for s in v)}/{len(v)} guarddog"
            for k, v in sorted(groups.items())))
    p("")

    # ---- Wharf per-rule precision / recall ----
    if has_w:
        hostile_fire, hostile_hold, benign_fire, benign_hold, sole = Counter(), Counter(), Counter(), Counter(), Counter()
        for s in samples:
            w = s["wharf"] or {"findings": [], "hold_rules": []}
            for r in {f["rule"] for f in w["findings"]}:
                hostile_fire[r] += 1
            for r in w["hold_rules"]:
                hostile_hold[r] += 1
            if len(w["hold_rules"]) == 1:
                sole[w["hold_rules"][0]] += 1
        for b in benign_rows:
            w = b["wharf"] or {"findings": [], "hold_rules": []}
            for r in {f["rule"] for f in w["findings"]}:
                benign_fire[r] += 1
            for r in w["hold_rules"]:
                benign_hold[r] += 1
        rules = sorted(set(hostile_fire) | set(benign_fire), key=lambda r: (-hostile_hold[r], r))
        p("Wharf rules (files; 'holds' = at quarantine/block). recall = hostile holds / all hostile samples;")
        p(f"precision = hostile holds / all holds, over this corpus ({n} hostile, {nb} benign); sole = samples only this rule held.")
        p(f"{'rule':<30}{'hostile fired':>14}{'holds':>7}{'sole':>6}{'benign fired':>14}{'holds':>7}{'recall':>9}{'precision':>11}")
        for r in rules:
            holds = hostile_hold[r] + benign_hold[r]
            prec = f"{100 * hostile_hold[r] / holds:.1f}%" if holds else "-"
            p(f"{r:<30}{hostile_fire[r]:>14}{hostile_hold[r]:>7}{sole[r]:>6}{benign_fire[r]:>14}{benign_hold[r]:>7}"
              f"{pct(hostile_hold[r], n):>9}{prec:>11}")
        p("")

    # ---- GuardDog threat rules ----
    if has_g:
        hf, bf = Counter(), Counter()
        for s in samples:
            if g_caught(s):
                hf.update(s["guarddog"]["threat_rules"])
        for b in benign_rows:
            g = b["guarddog"]
            if g and g.get("status") == "ok":
                bf.update(g["threat_rules"])
        p("GuardDog threat rules (files where each fired)")
        p(f"{'rule':<42}{'hostile':>8}{'benign':>8}{'precision':>11}")
        for r in sorted(set(hf) | set(bf), key=lambda r: (-hf[r], r)):
            p(f"{r:<42}{hf[r]:>8}{bf[r]:>8}{(f'{100 * hf[r] / (hf[r] + bf[r]):.1f}%'):>11}")
        p("")

    # ---- benign holds, with the rule that held each ----
    def short(path):
        return os.path.basename(path)

    if has_w and nb:
        p(f"Wharf holds on benign files: {len(bw)}")
        for r in bw:
            w = r["wharf"]
            p(f"  {short(r['file'])}: {w['verdict']} by {', '.join(w['hold_rules'])}")
            for f in w["findings"]:
                if f["severity"] in HOLD:
                    loc = (f["file"] or "-") + (f":{f['line']}" if f.get("line") else "")
                    p(f"      {f['rule']}:{f['severity']}  {clip(loc, 70)}  {clip(f['evidence'], 70)}")
        p("")
    if has_g and nb:
        p(f"GuardDog threat rules on benign files: {len(bg)}")
        for r in bg:
            g = r["guarddog"]
            p(f"  {short(r['file'])}: {', '.join(g['threat_rules'])} [{g.get('label')}]")
        if bge:
            p(f"GuardDog errors on benign files: {len(bge)}")
            for r in bge:
                p(f"  {short(r['file'])}: exit {r['guarddog'].get('rc')}: {r['guarddog'].get('error')}")
        p("")

    # ---- corpus problems ----
    structure = [s for s in samples if s["wharf"] and any(r.startswith(STRUCTURE) for r in s["wharf"]["hold_rules"])]
    name_only = [s for s in samples if s["wharf"] and s["wharf"]["held"] and not s["wharf"]["held_by_content"]]
    if structure:
        p(f"CORPUS PROBLEM: {len(structure)} samples held by archive-structure rules (builder bug): "
          + ", ".join(s["id"] for s in structure))
    if name_only:
        p(f"note: {len(name_only)} samples held only by name rules (not counted as caught): "
          + ", ".join(s["id"] for s in name_only))
    if has_w and has_g:
        p(f"Missed by both ({len(neither)}): " + ", ".join(s["id"] for s in neither))
    if hge:
        p("GuardDog errors on hostile samples: " + ", ".join(f"{s['id']} ({s['guarddog'].get('error')})" for s in hge))
    p("")

    # ---- machine-readable ----
    line = f"RESULT hostile={n} benign={nb}"
    if has_w:
        line += f" wharf_caught={wc} wharf_recall={wc / n:.3f} wharf_benign_held={len(bw)}"
    if has_g:
        line += (f" guarddog_caught={gc} guarddog_recall={gc / n:.3f} guarddog_benign_threat={len(bg)}"
                 f" guarddog_label_caught={gl} guarddog_benign_label={len(bgl)} guarddog_errors={len(hge) + len(bge)}")
    p(line)

    text = "\n".join(out) + "\n"
    with open(text_out, "w", encoding="utf-8") as f:
        f.write(text)
    sys.stdout.write(text)
    with open(json_out, "w", encoding="utf-8") as f:
        json.dump({"meta": meta, "hostile": samples, "benign": benign_rows}, f, indent=1)
    return 2 if structure else 0


if __name__ == "__main__":
    sys.exit(main())
