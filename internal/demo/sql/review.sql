-- Check proposed clusters
SELECT 
  entity_key,
  proposed_resolved_id,
  change_type
FROM idr_out.dry_run_results
ORDER BY proposed_resolved_id;
