-- Call center contacts: the caller's phone in whatever form the agent typed, sometimes an
-- email or a loyalty id read out over the phone.
SELECT 'K' || rid AS contact_id,
  CASE WHEN rk < {{.UnlistedJunk}} THEN '1234567890'
       WHEN g_bp(rid, 'ph') < 500 THEN NULL
       WHEN g_bp(rid, 'jp') < 300 THEN g_phone_fmt('0000000000', CAST(g_h(rid, 'pf') % 5 AS INTEGER))
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 5 AS INTEGER)) END AS phone,
  CASE WHEN rk >= {{.UnlistedJunk}} AND rk < 2 * {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 7000 THEN NULL
       ELSE g_email_var(email, rid, 3000, 1000, 2000) END AS email,
  CASE WHEN loyalty IS NULL OR g_bp(rid, 'ly') < 7500 THEN NULL
       WHEN g_bp(rid, 'lyv') < 3000 THEN lower(loyalty)
       WHEN g_bp(rid, 'lyv') < 4500 THEN loyalty || ' '
       ELSE loyalty END AS loyalty_id,
  CASE WHEN g_bp(rid, 'fn') < 1000 THEN NULL ELSE first_name END AS first_name,
  CASE WHEN g_bp(rid, 'ln') < 1000 THEN NULL ELSE last_name END AS last_name,
  ts AS call_ts
FROM g_base WHERE src = {{.Src}}
