-- Five sources, four identifier types. max_group_size is set from the data's scale: no real
-- person's (or household's) value is shared by more than {{.MaxGroup}} records, so larger
-- groups are junk.
INSERT INTO idr_meta.source_table VALUES
  ('web_accounts', 'web.accounts', 'PERSON', 'account_id', 'created_at', 0, TRUE),
  ('store_transactions', 'store.transactions', 'PERSON', 'txn_id', 'txn_ts', 0, TRUE),
  ('mobile_users', 'mobile.app_users', 'PERSON', 'user_id', 'signup_ts', 0, TRUE),
  ('call_center_contacts', 'callcenter.contacts', 'PERSON', 'contact_id', 'call_ts', 0, TRUE),
  ('partner_customers', 'partner.customers', 'PERSON', 'partner_ref', 'received_at', 0, TRUE);

INSERT INTO idr_meta.source VALUES
  ('web_accounts', 'Web', 1, TRUE),
  ('mobile_users', 'Mobile app', 2, TRUE),
  ('store_transactions', 'Stores', 3, TRUE),
  ('call_center_contacts', 'Call center', 4, TRUE),
  ('partner_customers', 'Partner', 5, TRUE);

INSERT INTO idr_meta.rule VALUES
  ('email_exact', 'EMAIL', 1, TRUE, {{.MaxGroup}}),
  ('phone_exact', 'PHONE', 2, TRUE, {{.MaxGroup}}),
  ('loyalty_exact', 'LOYALTY', 3, TRUE, {{.MaxGroup}}),
  ('name_address_exact', 'ADDRESS', 4, TRUE, {{.MaxGroup}});

INSERT INTO idr_meta.identifier_exclusion VALUES
  ('EMAIL', 'noreply@%', TRUE, 'Generic noreply'),
  ('EMAIL', 'test@%', TRUE, 'Test emails'),
  ('PHONE', '0000000000', FALSE, 'Invalid phone');

-- Loyalty ids are typed in lower case at times; name-and-address keys differ in case.
INSERT INTO idr_meta.identifier_normalizer VALUES ('LOYALTY', 'UPPER'), ('ADDRESS', 'LOWER');

-- ADDRESS is a match key of name and address (NULL unless all four parts are there); household
-- members share an address but not a first name. Mobile and partner phones may carry the +1
-- country code: keep the last ten digits.
INSERT INTO idr_meta.identifier_mapping VALUES
  ('web_accounts', 'EMAIL', 'email', TRUE),
  ('web_accounts', 'PHONE', 'phone', TRUE),
  ('web_accounts', 'LOYALTY', 'loyalty_id', TRUE),
  ('web_accounts', 'ADDRESS', 'trim(first_name) || '' '' || trim(last_name) || '', '' || trim(address_line) || '', '' || trim(postal_code)', TRUE),
  ('store_transactions', 'LOYALTY', 'loyalty_id', TRUE),
  ('store_transactions', 'PHONE', 'phone', TRUE),
  ('store_transactions', 'EMAIL', 'receipt_email', TRUE),
  ('mobile_users', 'EMAIL', 'email', TRUE),
  ('mobile_users', 'PHONE', 'right(translate(phone, ''()-. +'', ''''), 10)', TRUE),
  ('mobile_users', 'LOYALTY', 'loyalty_id', TRUE),
  ('call_center_contacts', 'PHONE', 'phone', TRUE),
  ('call_center_contacts', 'EMAIL', 'email', TRUE),
  ('call_center_contacts', 'LOYALTY', 'loyalty_id', TRUE),
  ('partner_customers', 'EMAIL', 'email', TRUE),
  ('partner_customers', 'PHONE', 'right(translate(phone, ''()-. +'', ''''), 10)', TRUE),
  ('partner_customers', 'ADDRESS', 'trim(first_name) || '' '' || trim(last_name) || '', '' || trim(address_line) || '', '' || trim(postal_code)', TRUE);
