-- Pseudo-random functions of (seed, row or person number, tag): the same arguments give the
-- same value, so a dataset is a pure function of the seed and the sizes. random() is not used.
-- hash(tag, seed) is folded to a constant; xor-ing it into the number and hashing once mixes
-- every bit (hash() of several values combines them weakly: the high bits of hash(s, i, 'a')
-- and hash(s, i, 'b') are strongly correlated) and costs a third as much.
CREATE OR REPLACE TEMP MACRO g_h(a, tag) AS hash(xor(CAST(a AS UBIGINT), hash(tag, CAST({{.Seed}} AS BIGINT))));
-- basis points: 0..9999
CREATE OR REPLACE TEMP MACRO g_bp(a, tag) AS CAST(g_h(a, tag) % 10000 AS INTEGER);
-- uniform in (0, 1)
CREATE OR REPLACE TEMP MACRO g_u(a, tag) AS (CAST(g_h(a, tag) >> 11 AS DOUBLE) + 0.5) / 9007199254740992.0;
CREATE OR REPLACE TEMP MACRO g_pick(xs, a, tag) AS xs[1 + CAST(g_h(a, tag) % len(xs) AS BIGINT)];

-- Households: every third person-number triple whose draw says so shares a landline and an address.
CREATE OR REPLACE TEMP MACRO g_hh(pid) AS g_bp(pid // 3, 'hh') < {{.HouseholdBP}};

CREATE OR REPLACE TEMP MACRO g_first(pid) AS
  ['James','Mary','John','Patricia','Robert','Jennifer','Michael','Linda','William','Elizabeth',
   'David','Barbara','Richard','Susan','Joseph','Jessica','Thomas','Sarah','Charles','Karen',
   'Daniel','Nancy','Matthew','Lisa','Anthony','Betty','Mark','Margaret','Donald','Sandra',
   'Steven','Ashley','Paul','Kimberly','Andrew','Emily','Joshua','Donna','Kenneth','Michelle',
   'Kevin','Carol','Brian','Amanda','George','Dorothy','Timothy','Melissa','Ronald','Deborah',
   'Jason','Stephanie','Edward','Rebecca','Jeffrey','Sharon','Ryan','Laura','Jacob','Cynthia']
  [1 + CAST(CASE WHEN g_hh(pid) THEN (g_h(pid // 3, 'first') % 60 + (pid % 3) * 17) % 60
                 ELSE g_h(pid, 'first') % 60 END AS BIGINT)];
CREATE OR REPLACE TEMP MACRO g_last(pid) AS
  ['Smith','Johnson','Williams','Brown','Jones','Garcia','Miller','Davis','Rodriguez','Martinez',
   'Hernandez','Lopez','Gonzalez','Wilson','Anderson','Thomas','Taylor','Moore','Jackson','Martin',
   'Lee','Perez','Thompson','White','Harris','Sanchez','Clark','Ramirez','Lewis','Robinson',
   'Walker','Young','Allen','King','Wright','Scott','Torres','Nguyen','Hill','Flores',
   'Green','Adams','Nelson','Baker','Hall','Rivera','Campbell','Mitchell','Carter','Roberts',
   'Gomez','Phillips','Evans','Turner','Diaz','Parker','Cruz','Edwards','Collins','Reyes']
  [1 + CAST(CASE WHEN g_hh(pid) THEN g_h(pid // 3, 'last') % 60 ELSE g_h(pid, 'last') % 60 END AS BIGINT)];

-- A person's emails hold the person number, so no two people share one by chance.
CREATE OR REPLACE TEMP MACRO g_email1(pid) AS
  lower(g_first(pid)) || '.' || lower(g_last(pid)) || CAST(pid AS VARCHAR) || '@' ||
  g_pick(['example.com','example.net','example.org','mail.example','inbox.example','post.example'], pid, 'd1');
CREATE OR REPLACE TEMP MACRO g_email2(pid) AS
  lower(g_first(pid)[1]) || lower(g_last(pid)) || '.' || CAST(pid AS VARCHAR) || '@' ||
  g_pick(['work.example','corp.example','example.com','webmail.example'], pid, 'd2');
-- Some people changed email half-way through their history.
CREATE OR REPLACE TEMP MACRO g_has_email2(pid, size) AS size >= 2 AND g_bp(pid, 'e2') < {{.Email2BP}};

-- Phones are bijections of the person (or household) number into disjoint ranges:
-- mobiles 2000000000..6999999999, household landlines 7000000000..7999999999.
CREATE OR REPLACE TEMP MACRO g_mobile(pid) AS
  CAST(2000000000 + (pid * 2654435761 + {{.PhoneOff}}) % 5000000000 AS VARCHAR);
CREATE OR REPLACE TEMP MACRO g_landline(pid) AS
  CAST(7000000000 + ((pid // 3) * 2654435761 + {{.PhoneOff}}) % 1000000000 AS VARCHAR);
CREATE OR REPLACE TEMP MACRO g_loyalty(pid) AS
  'LY' || lpad(CAST((pid * 2654435761 + {{.LoyaltyOff}}) % 1000000000 AS VARCHAR), 9, '0');

-- Address: one per person, or one per household; a bijection of 0..10^10 into house, street,
-- suffix and zip.
CREATE OR REPLACE TEMP MACRO g_addr_no(pid) AS
  ((CASE WHEN g_hh(pid) THEN (pid // 3) * 3 ELSE pid END) * 2654435761 + {{.AddressOff}}) % 10000000000;
CREATE OR REPLACE TEMP MACRO g_address(pid) AS
  CAST(g_addr_no(pid) % 9000 + 100 AS VARCHAR) || ' ' ||
  ['Oak','Maple','Pine','Cedar','Elm','Walnut','Willow','Birch','Spruce','Chestnut',
   'Lake','Hill','River','Park','Spring','Meadow','Forest','Sunset','Ridge','Valley',
   'Main','Church','Market','Mill','School','Bridge','Station','Union','Center','Water',
   'Washington','Lincoln','Jefferson','Madison','Franklin','Jackson','Adams','Monroe','Grant','Hamilton',
   'First','Second','Third','Fourth','Fifth','Sixth','Seventh','Eighth','Ninth','Tenth',
   'Highland','Prospect','Summit','Orchard','Garden','Harbor','Bay','Grove','Fairview','Kingston']
  [1 + CAST((g_addr_no(pid) // 9000) % 60 AS BIGINT)] || ' ' ||
  ['St','Ave','Rd','Ln','Blvd'][1 + CAST((g_addr_no(pid) // 540000) % 5 AS BIGINT)];
-- (at most 3704 values of the quotient: spread over 01001..97305)
CREATE OR REPLACE TEMP MACRO g_zip(pid) AS lpad(CAST((g_addr_no(pid) // 2700000) * 26 + 1001 AS VARCHAR), 5, '0');

-- Variants that normalize back to the same value.
CREATE OR REPLACE TEMP MACRO g_email_var(e, rid, up, cap, sp) AS CASE
  WHEN g_bp(rid, 'ev') < up THEN upper(e)
  WHEN g_bp(rid, 'ev') < up + cap THEN upper(e[1]) || e[2:]
  WHEN g_bp(rid, 'ev') < up + cap + sp THEN g_pick([' ', '  ', chr(9)], rid, 'evl') || e || g_pick(['', ' ', chr(13)], rid, 'evr')
  ELSE e END;
CREATE OR REPLACE TEMP MACRO g_phone_fmt(s, k) AS CASE k
  WHEN 1 THEN '(' || s[1:3] || ') ' || s[4:6] || '-' || s[7:10]
  WHEN 2 THEN s[1:3] || '-' || s[4:6] || '-' || s[7:10]
  WHEN 3 THEN s[1:3] || '.' || s[4:6] || '.' || s[7:10]
  WHEN 4 THEN s[1:3] || ' ' || s[4:6] || ' ' || s[7:10]
  WHEN 5 THEN '+1' || s
  WHEN 6 THEN '+1 (' || s[1:3] || ') ' || s[4:6] || '-' || s[7:10]
  ELSE s END;
