#!/bin/sh
# Lighthouse, mobile, on the cheap-phone profile of issue 20 (400 kbps, 300 ms RTT, CPU x6), against
# a running site: bench/lighthouse.sh http://127.0.0.1:8000/track/ http://127.0.0.1:8000/t/<token>
# (the token link signs in and redirects to /track/: printed as "/t/<token> -> /track/").
# Lighthouse is installed with npm into a temporary directory (not into the project); Debian's
# Chromium drives the pages. Each URL runs RUNS times (default 3); the JSON reports stay in $OUT.
set -eu
RUNS="${RUNS:-3}"
OUT="${OUT:-$(mktemp -d)}"; mkdir -p "$OUT"
LH_DIR="${LH_DIR:-$(mktemp -d)}"
[ -x "$LH_DIR/node_modules/.bin/lighthouse" ] || npm install --prefix "$LH_DIR" --silent --no-save -E lighthouse@12.2.3
i=0
for url in "$@"; do
  i=$((i + 1)); run=1
  while [ "$run" -le "$RUNS" ]; do
    CHROME_PATH="${CHROME_PATH:-/usr/bin/chromium}" "$LH_DIR/node_modules/.bin/lighthouse" "$url" --quiet \
      --only-categories=performance,accessibility,best-practices,seo --form-factor=mobile \
      --throttling-method=simulate --throttling.rttMs=300 --throttling.throughputKbps=400 \
      --throttling.cpuSlowdownMultiplier=6 --chrome-flags="--headless=new --no-sandbox" \
      --output=json --output-path="$OUT/page$i-run$run.json"
    run=$((run + 1))
  done
done
python3 - "$OUT" <<'PY'
import json, pathlib, sys
for path in sorted(pathlib.Path(sys.argv[1]).glob("*.json")):
    r = json.loads(path.read_text()); a = r["audits"]
    scores = " ".join(f"{k}={round(v['score'] * 100)}" for k, v in r["categories"].items())
    # The SEO score of every audit but is-crawlable, weighted as Lighthouse weighs them: kept from
    # when the token page carried noindex; since /t/<token> signs in and redirects to /track/, it
    # must equal the SEO score (docs/accessibility.md).
    refs = [x for x in r["categories"]["seo"]["auditRefs"] if x["id"] != "is-crawlable" and x["weight"]
            and a[x["id"]]["score"] is not None]
    scores += f" seo_without_noindex={round(100 * sum(a[x['id']]['score'] * x['weight'] for x in refs) / sum(x['weight'] for x in refs))}"
    shown = r["finalDisplayedUrl"] if r["finalDisplayedUrl"] == r["requestedUrl"] else f"{r['requestedUrl']} -> {r['finalDisplayedUrl']}"
    print(f"{shown}  {scores}  LCP={a['largest-contentful-paint']['displayValue']}"
          f"  FCP={a['first-contentful-paint']['displayValue']}  TBT={a['total-blocking-time']['displayValue']}"
          f"  CLS={a['cumulative-layout-shift']['displayValue']}  bytes={int(a['total-byte-weight']['numericValue'])}"
          f"  benchmarkIndex={r['environment']['benchmarkIndex']}")
PY
echo "reports: $OUT"
