"""farmed_declared alone on simulated files (no Neo4j, not through ringscope flagged): per role of the accounts with
declared orders, how many the detector scores and how many it flags alone (weight 0.8, threshold 0.5).

    PYTHONPATH=<path to ringscope> python benchmarks/farmed_declared_files.py DATASET_DIR
"""
import sys, time
from pathlib import Path
import pandas as pd

from benchmarks.detection_speed import read_frames
from ringscope.detection.farmed_declared import detect_farmed_declared
d = Path(sys.argv[1])
f = read_frames(d)
t = time.time()
fs = detect_farmed_declared(f.accounts, f.notes, f.orders, f.intermediary_accounts, f.likes, f.comments, f.follows)
print("seconds", round(time.time() - t, 2))
lab = pd.read_csv(d / "labels.csv").set_index("account_id")
scores = {}
for x in fs:
    for a in x.members:
        scores[a] = (x.member_score(a), x.member_reasons[a][0].text)
dec = set(f.orders[f.orders.declared.astype(str).str.lower() == "true"].account_id.astype(str))
roles = lab.loc[sorted(dec), "role"]
print(roles.value_counts())
alone = {a for a, (s, _) in scores.items() if 0.8 * s >= 0.5}
for r in sorted(roles.unique()):
    acc = roles[roles == r].index
    sc = [scores.get(a, (0, ""))[0] for a in acc]
    print(f"{r:25s} n={len(acc):4d} scored={sum(s>0 for s in sc):4d} flag_alone={sum(a in alone for a in acc):4d} median={pd.Series(sc).median():.2f} min={min(sc):.2f} max={max(sc):.2f}")
print(len(fs), "findings; sizes", sorted(len(x.members) for x in fs)[-10:])
for r in ["farmed_declared", "declared_viral", "declared_with_assistant"]:
    acc = [a for a in roles[roles == r].index if a in scores]
    if acc:
        a = max(acc, key=lambda a: scores[a][0]); print(r, a, scores[a][1][:1500]); print()
from ringscope.detection.farmed_declared import follower_evidence, interaction_evidence, copy_evidence, declared_orders
cands = set(declared_orders(f.orders).account_id)
fol, q, p0, co = follower_evidence(f.follows, cands)
print("q", q, "p0", p0)
inter = interaction_evidence(f.accounts, f.notes, f.likes, f.comments, f.follows, cands)
cop, copied, lam = copy_evidence(f.notes, f.intermediary_accounts, cands)
print("lam", lam)
m = fol.rename(columns={"surprise":"s_a"}).merge(inter.rename(columns={"surprise":"s_b"}), on="account_id", how="outer").merge(cop.rename(columns={"surprise":"s_c"}), on="account_id", how="outer")
m["role"] = m.account_id.map(lab.role)
pd.set_option("display.width", 250); pd.set_option("display.max_columns", 30); pd.set_option("display.max_rows", 200)
print(m.sort_values(["role", "s_a"]).drop(columns=["burst_start", "burst_end"]))
