-- People and how many records each has: a share of singletons, the rest from a capped
-- Pareto-like tail. People are numbered 0, 1, ...; the first people whose records add up to
-- the requested row count are kept, the last one cut to fit.
CREATE OR REPLACE TEMP TABLE g_persons AS
WITH d AS (
  SELECT i AS pid,
    CASE WHEN g_u(i, 'one') < {{.Singles}} THEN 1
         ELSE CAST(least({{.MaxSize}}, floor(2 * pow(g_u(i, 'size'), -1.0 / {{.Alpha}}))) AS BIGINT) END AS want
  FROM range({{.PersonsCap}}) t(i)
), c AS (
  SELECT pid, want, CAST(coalesce(sum(want) OVER (ORDER BY pid ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS BIGINT) AS start
  FROM d
)
SELECT pid, start, least(want, {{.Rows}} - start) AS size FROM c WHERE start < {{.Rows}} ORDER BY pid;
