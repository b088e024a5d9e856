-- One row per generated record: its person, its place in the person's history (j), its row
-- number (rid), its source (src), a permutation rank (rk) used to plant exact counts of junk,
-- and the person's values as of that record. Sources select from it and vary, drop or junk them.
CREATE OR REPLACE TEMP VIEW g_base AS
SELECT pid, size, j, rid, src, rk,
  g_first(pid) AS first_name,
  g_last(pid) AS last_name,
  CASE WHEN g_has_email2(pid, size) AND j >= (size + 1) // 2 THEN g_email2(pid) ELSE g_email1(pid) END AS email,
  CASE WHEN g_hh(pid) AND g_bp(rid, 'land') < {{.LandlineBP}} THEN g_landline(pid) ELSE g_mobile(pid) END AS phone,
  CASE WHEN g_bp(pid, 'loy') < {{.LoyaltyBP}} THEN g_loyalty(pid) END AS loyalty,
  g_address(pid) AS address_line,
  g_zip(pid) AS postal_code,
  g_ts(pid, j, rid) AS ts
FROM (
  SELECT pid, size, j, rid, {{.SourceCase}} AS src, (rid * {{.RankMul}} + {{.RankAdd}}) % {{.Rows}} AS rk
  FROM (SELECT pid, size, j, start + j AS rid FROM (SELECT pid, start, size, unnest(range(size)) AS j FROM g_persons))
);
