SELECT 
  resolved_id,
  COUNT(*) as entity_count,
  LISTAGG(entity_key, ', ') as entities
FROM idr_out.identity_resolved_membership_current
GROUP BY resolved_id
ORDER BY entity_count DESC;
