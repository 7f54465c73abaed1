"""Evidence packs: one zip an outsider can read, check and reproduce.

``collect`` gathers the subgraph of a cluster, case or account with bounded,
parameterised queries (and keeps every query and its parameters);
``pack`` turns that into files (pure: report in HTML and PDF, graph files,
charts, data, sanctions, audit excerpt), masking personal data in every file,
with the report's sections in ``sections``;
``manifest`` hashes and optionally signs them; ``export`` runs the three and
audits the export; ``verify`` checks a pack offline.
"""
