SELECT 
  resolved_id,
  email_primary,
  phone_primary,
  first_name,
  last_name
FROM idr_out.golden_profile_current;
