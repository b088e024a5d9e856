-- Web shop accounts: email almost always, phone and address when the customer filled them in.
SELECT 'W' || rid AS account_id,
  CASE WHEN rk >= {{.UnlistedJunk}} AND rk < 2 * {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 300 THEN NULL
       WHEN g_bp(rid, 'jk') < 50 THEN g_pick(['test@test.com', 'TEST@example.com', 'test@shop.example'], rid, 'jkv')
       ELSE g_email_var(email, rid, 300, 500, 300) END AS email,
  CASE WHEN rk < {{.UnlistedJunk}} THEN '1234567890'
       WHEN g_bp(rid, 'ph') < 5000 THEN NULL
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 5 AS INTEGER)) END AS phone,
  CASE WHEN loyalty IS NULL OR g_bp(rid, 'ly') < 5000 THEN NULL ELSE loyalty END AS loyalty_id,
  CASE WHEN g_bp(rid, 'fn') < 200 THEN NULL ELSE first_name END AS first_name,
  CASE WHEN g_bp(rid, 'ln') < 200 THEN NULL ELSE last_name END AS last_name,
  CASE WHEN g_bp(rid, 'ad') < 4000 THEN NULL
       WHEN g_bp(rid, 'adv') < 2000 THEN upper(address_line)
       WHEN g_bp(rid, 'adv') < 3000 THEN address_line || '  '
       ELSE address_line END AS address_line,
  CASE WHEN g_bp(rid, 'ad') < 4000 OR g_bp(rid, 'zp') < 300 THEN NULL ELSE postal_code END AS postal_code,
  ts AS created_at
FROM g_base WHERE src = {{.Src}}
