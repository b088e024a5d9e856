-- Store point-of-sale transactions: loyalty card when the shopper is a member, otherwise the
-- phone or receipt email the cashier asked for; a few anonymous ones.
SELECT 'S' || rid AS txn_id,
  'ST' || lpad(CAST(g_h(pid, 'store') % 400 AS VARCHAR), 3, '0') AS store_id,
  CASE WHEN loyalty IS NULL OR g_bp(rid, 'ly') < 500 THEN NULL
       WHEN g_bp(rid, 'lyv') < 300 THEN lower(loyalty)
       ELSE loyalty END AS loyalty_id,
  CASE WHEN rk < {{.UnlistedJunk}} THEN '1234567890'
       WHEN loyalty IS NOT NULL AND g_bp(rid, 'ly') >= 500 AND g_bp(rid, 'ph') < 8000 THEN NULL
       WHEN loyalty IS NULL AND g_bp(rid, 'ph') < 2000 THEN NULL
       WHEN g_bp(rid, 'jp') < 200 THEN '0000000000'
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 3 AS INTEGER)) END AS phone,
  CASE WHEN rk >= {{.UnlistedJunk}} AND rk < 2 * {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < CASE WHEN loyalty IS NOT NULL AND g_bp(rid, 'ly') >= 500 THEN 9000
                                   WHEN g_bp(rid, 'ph') >= 2000 THEN 8000 ELSE 2500 END THEN NULL
       WHEN g_bp(rid, 'jk') < 100 THEN g_pick(['noreply@store.example', 'NoReply@Store.example'], rid, 'jkv')
       ELSE g_email_var(email, rid, 500, 500, 500) END AS receipt_email,
  ts AS txn_ts
FROM g_base WHERE src = {{.Src}}
