-- The walkthrough's Step 1 sample data: three source systems, the exact rows shown.
CREATE SCHEMA IF NOT EXISTS crm;
CREATE SCHEMA IF NOT EXISTS ecom;
CREATE SCHEMA IF NOT EXISTS support;

CREATE OR REPLACE TABLE crm.customers (
  customer_id VARCHAR, email VARCHAR, phone VARCHAR, first_name VARCHAR, created_at DATE
);
INSERT INTO crm.customers VALUES
  ('C001', 'john@acme.com',    '5551234567', 'John', DATE '2024-01-01'),
  ('C002', 'jane@example.org', '5559876543', 'Jane', DATE '2024-01-02'),
  ('C003', 'bob@test.com',     NULL,         'Bob',  DATE '2024-01-03');

CREATE OR REPLACE TABLE ecom.orders (
  order_id VARCHAR, customer_email VARCHAR, loyalty_id VARCHAR, order_date DATE
);
INSERT INTO ecom.orders VALUES
  ('O001', 'john@acme.com',    'LY100', DATE '2024-02-01'),
  ('O002', 'JOHN@ACME.COM',    'LY100', DATE '2024-02-15'),  -- Same person, different case
  ('O003', 'jane@example.org', 'LY200', DATE '2024-02-20'),
  ('O004', 'alice@new.com',    NULL,    DATE '2024-02-25');

CREATE OR REPLACE TABLE support.tickets (
  ticket_id VARCHAR, contact_email VARCHAR, contact_phone VARCHAR, created_at DATE
);
INSERT INTO support.tickets VALUES
  ('T001', 'john@acme.com',  '5551234567', DATE '2024-03-01'),
  ('T002', 'bob@test.com',   '5550001111', DATE '2024-03-02'),  -- Bob now has a phone!
  ('T003', 'new@person.com', '5552223333', DATE '2024-03-03');
