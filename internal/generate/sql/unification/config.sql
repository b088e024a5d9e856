-- The walkthrough's configuration, with max_group_size set from the data's scale: no real
-- person's value is shared by more than {{.MaxGroup}} records, so larger groups are junk.
INSERT INTO idr_meta.source_table VALUES
  ('crm_customers', 'crm.customers', 'PERSON', 'customer_id', 'created_at', 0, TRUE),
  ('ecom_orders', 'ecom.orders', 'PERSON', 'order_id', 'order_date', 0, TRUE),
  ('support_tickets', 'support.tickets', 'PERSON', 'ticket_id', 'created_at', 0, TRUE);

INSERT INTO idr_meta.source VALUES
  ('crm_customers', 'CRM', 1, TRUE),
  ('ecom_orders', 'E-commerce', 2, TRUE),
  ('support_tickets', 'Support', 3, TRUE);

INSERT INTO idr_meta.rule VALUES
  ('email_exact', 'EMAIL', 1, TRUE, {{.MaxGroup}}),
  ('phone_exact', 'PHONE', 2, TRUE, {{.MaxGroup}}),
  ('loyalty_exact', 'LOYALTY', 3, TRUE, {{.MaxGroup}});

INSERT INTO idr_meta.identifier_exclusion VALUES
  ('EMAIL', 'noreply@%', TRUE, 'Generic noreply'),
  ('EMAIL', 'test@%', TRUE, 'Test emails'),
  ('PHONE', '0000000000', FALSE, 'Invalid phone');

-- Loyalty ids are typed in lower case at times: compare them upper-cased.
INSERT INTO idr_meta.identifier_normalizer VALUES ('LOYALTY', 'UPPER');

INSERT INTO idr_meta.identifier_mapping VALUES
  ('crm_customers', 'EMAIL', 'email', TRUE),
  ('crm_customers', 'PHONE', 'phone', TRUE),
  ('ecom_orders', 'EMAIL', 'customer_email', TRUE),
  ('ecom_orders', 'LOYALTY', 'loyalty_id', TRUE),
  ('support_tickets', 'EMAIL', 'contact_email', TRUE),
  ('support_tickets', 'PHONE', 'contact_phone', TRUE);
