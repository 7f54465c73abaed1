"""The content-health index (issue #14, item 3): policy (policy/health.yaml), index (the formula, pure), store (its
Cypher), service (one account, a brand's or an agency's accounts, the whole platform's distribution)."""
