-- One row per generated record: its person, its place in the person's history (j), its row
-- number (rid), its source (src), a permutation rank (rk) used to plant exact counts of junk,
-- and the person's values as of that record. Sources select from it and vary, drop or junk them.
CREATE OR REPLACE TEMP VIEW g_base AS
SELECT pid, size, j, rid, src, rk, first_name, last_name,
  CASE WHEN email2 IS NOT NULL AND j >= (size + 1) // 2 THEN email2 ELSE email1 END AS email,
  CASE WHEN landline IS NOT NULL AND g_bp(rid, 'land') < {{.LandlineBP}} THEN landline ELSE mobile END AS phone,
  loyalty,
  {{- if .Addresses}}
  address_line,
  postal_code,
  {{- end}}
  TIMESTAMP '2022-01-01 00:00:00' + to_seconds(t0 + j * 172800 + CAST(g_h(rid, 'tj') % 86400 AS BIGINT)) AS ts
FROM (
  SELECT *, {{.SourceCase}} AS src, (rid * {{.RankMul}} + {{.RankAdd}}) % {{.Rows}} AS rk
  FROM (SELECT *, start + j AS rid FROM (SELECT *, unnest(range(size)) AS j FROM g_persons))
);
