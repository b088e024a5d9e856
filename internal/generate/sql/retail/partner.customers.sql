-- A partner's customer file: the worst quality; upper-cased names and addresses, padded
-- emails, phones with and without the +1 country code.
SELECT 'P' || rid AS partner_ref,
  CASE WHEN rk >= {{.UnlistedJunk}} AND rk < 2 * {{.UnlistedJunk}} THEN 'none@none.com'
       WHEN g_bp(rid, 'em') < 3000 THEN NULL
       ELSE g_email_var(email, rid, 4000, 1000, 2000) END AS email,
  CASE WHEN rk < {{.UnlistedJunk}} THEN '1234567890'
       WHEN g_bp(rid, 'ph') < 5000 THEN NULL
       ELSE g_phone_fmt(phone, CAST(g_h(rid, 'pf') % 7 AS INTEGER)) END AS phone,
  CASE WHEN g_bp(rid, 'fn') < 500 THEN NULL WHEN g_bp(rid, 'nu') < 5000 THEN upper(first_name) ELSE first_name END AS first_name,
  CASE WHEN g_bp(rid, 'ln') < 500 THEN NULL WHEN g_bp(rid, 'nu') < 5000 THEN upper(last_name) ELSE last_name END AS last_name,
  CASE WHEN g_bp(rid, 'ad') < 1500 THEN NULL
       WHEN g_bp(rid, 'nu') < 5000 THEN upper(address_line)
       WHEN g_bp(rid, 'adv') < 2000 THEN ' ' || address_line
       ELSE address_line END AS address_line,
  CASE WHEN g_bp(rid, 'ad') < 1500 OR g_bp(rid, 'zp') < 500 THEN NULL ELSE postal_code END AS postal_code,
  ts AS received_at
FROM g_base WHERE src = {{.Src}}
