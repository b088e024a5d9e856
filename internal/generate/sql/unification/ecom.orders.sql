-- E-commerce: one row per order; the customer's email as typed at checkout, loyalty id when
-- the customer is a member and gave it.
SELECT 'O' || rid AS order_id,
  CASE WHEN rk < {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 300 THEN NULL
       WHEN g_bp(rid, 'jk') < 40 THEN g_pick(['noreply@shop.example', 'NoReply@Shop.example', 'noreply@mail.example'], rid, 'jkv')
       ELSE g_email_var(email, rid, 1500, 800, 800) END AS customer_email,
  CASE WHEN loyalty IS NULL OR g_bp(rid, 'ly') < 3000 THEN NULL
       WHEN g_bp(rid, 'lyv') < 500 THEN lower(loyalty)
       WHEN g_bp(rid, 'lyv') < 800 THEN ' ' || loyalty
       ELSE loyalty END AS loyalty_id,
  CAST(ts AS DATE) AS order_date
FROM g_base WHERE src = {{.Src}}
