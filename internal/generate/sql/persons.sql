-- People and how many records each has: a share of singletons, the rest from a capped
-- Pareto-like tail. People are numbered 0, 1, ...; the first people whose records add up to
-- the requested row count are kept, the last one cut to fit. Each person's values are built
-- here once, not once per record.
CREATE OR REPLACE TEMP TABLE g_persons AS
WITH d AS (
  SELECT i AS pid,
    CASE WHEN g_u(i, 'one') < {{.Singles}} THEN 1
         ELSE CAST(least({{.MaxSize}}, floor(2 * pow(g_u(i, 'size'), -1.0 / {{.Alpha}}))) AS BIGINT) END AS want
  FROM range({{.PersonsCap}}) t(i)
), c AS (
  SELECT pid, want, CAST(coalesce(sum(want) OVER (ORDER BY pid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS start
  FROM d
), k AS (
  SELECT pid, start, least(want, {{.Rows}} - start) AS size FROM c WHERE start < {{.Rows}}
)
SELECT pid, start, size,
  g_first(pid) AS first_name,
  g_last(pid) AS last_name,
  g_email1(pid) AS email1,
  CASE WHEN g_has_email2(pid, size) THEN g_email2(pid) END AS email2,
  g_mobile(pid) AS mobile,
  CASE WHEN g_hh(pid) THEN g_landline(pid) END AS landline,
  CASE WHEN g_bp(pid, 'loy') < {{.LoyaltyBP}} THEN g_loyalty(pid) END AS loyalty,
  {{- if .Addresses}}
  g_address(pid) AS address_line,
  g_zip(pid) AS postal_code,
  {{- end}}
  CAST(g_h(pid, 't0') % 31536000 AS BIGINT) AS t0
FROM k ORDER BY pid;
