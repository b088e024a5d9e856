-- CRM: one row per customer account; email mostly present, phone often, names.
SELECT 'C' || rid AS customer_id,
  CASE WHEN rk < {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 500 THEN NULL
       WHEN g_bp(rid, 'jk') < 50 THEN g_pick(['test@test.com', 'TEST@example.com', 'test@shop.example'], rid, 'jkv')
       ELSE g_email_var(email, rid, 300, 300, 300) END AS email,
  CASE WHEN g_bp(rid, 'ph') < 2000 THEN NULL
       WHEN g_bp(rid, 'jp') < 100 THEN g_phone_fmt('0000000000', CAST(g_h(rid, 'pf') % 3 AS INTEGER))
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 5 AS INTEGER)) END AS phone,
  CASE WHEN g_bp(rid, 'fn') < 200 THEN NULL WHEN g_bp(rid, 'fn') < 600 THEN upper(first_name) ELSE first_name END AS first_name,
  CASE WHEN g_bp(rid, 'ln') < 300 THEN NULL ELSE last_name END AS last_name,
  CAST(ts AS DATE) AS created_at
FROM g_base WHERE src = {{.Src}}
