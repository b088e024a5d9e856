-- Mobile app sign-ups: email and phone (often in +1 international form), loyalty id when linked.
SELECT 'M' || rid AS user_id,
  CASE WHEN rk >= {{.UnlistedJunk}} AND rk < 2 * {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 800 THEN NULL
       ELSE g_email_var(email, rid, 100, 300, 100) END AS email,
  CASE WHEN rk < {{.UnlistedJunk}} THEN '1234567890'
       WHEN g_bp(rid, 'ph') < 1500 THEN NULL
       ELSE g_phone_fmt(phone, CAST(g_pick([0, 5, 5, 5, 6], rid, 'pf') AS INTEGER)) END AS phone,
  CASE WHEN loyalty IS NULL OR g_bp(rid, 'ly') < 4000 THEN NULL ELSE loyalty END AS loyalty_id,
  CASE WHEN g_bp(rid, 'fn') < 500 THEN NULL ELSE first_name END AS first_name,
  CASE WHEN g_bp(rid, 'ln') < 800 THEN NULL ELSE last_name END AS last_name,
  ts AS signup_ts
FROM g_base WHERE src = {{.Src}}
