-- Support: one row per ticket; contact email and phone as the agent typed them.
SELECT 'T' || rid AS ticket_id,
  CASE WHEN rk < {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 1500 THEN NULL
       WHEN g_bp(rid, 'jk') < 100 THEN g_pick(['noreply@shop.example', 'NOREPLY@SHOP.EXAMPLE', 'noreply@support.example'], rid, 'jkv')
       ELSE g_email_var(email, rid, 500, 500, 1000) END AS contact_email,
  CASE WHEN g_bp(rid, 'ph') < 2500 THEN NULL
       WHEN g_bp(rid, 'jp') < 200 THEN g_phone_fmt('0000000000', CAST(g_h(rid, 'pf') % 5 AS INTEGER))
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 5 AS INTEGER)) END AS contact_phone,
  CAST(ts AS DATE) AS created_at
FROM g_base WHERE src = {{.Src}}
