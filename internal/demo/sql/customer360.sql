SELECT 
  g.resolved_id as unified_customer_id,
  g.email_primary,
  g.phone_primary,
  COUNT(DISTINCT CASE WHEN m.entity_key LIKE 'ecom_%' THEN m.entity_key END) as order_count,
  COUNT(DISTINCT CASE WHEN m.entity_key LIKE 'support_%' THEN m.entity_key END) as ticket_count
FROM idr_out.golden_profile_current g
JOIN idr_out.identity_resolved_membership_current m ON m.resolved_id = g.resolved_id
GROUP BY 1, 2, 3;
