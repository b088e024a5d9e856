// Package meta owns the configuration model: it reads the idr_meta tables, validates them
// (preflight) and hands the pipeline a Config it can trust. Every problem is reported as one
// line naming the table, the row and what to do; nothing is written while validating.
package meta

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/sqltext"
)

// Source is an active registered source table joined with its idr_meta.source row.
type Source struct {
	TableID         string
	FQN             string
	EntityType      string
	KeyExpr         string
	WatermarkColumn string // "" when the source has no watermark
	LookbackMinutes int64
	SourceName      string
	TrustRank       *int64 // nil: no idr_meta.source row, ranks after every ranked source
	DeletedExpr     string // "" or a boolean expression: TRUE marks a soft-deleted row
	Columns         []string
}

// Rule is an active matching rule.
type Rule struct {
	ID             string
	IdentifierType string
	Priority       int64
	MaxGroupSize   int64
}

// Exclusion is one idr_meta.identifier_exclusion row.
type Exclusion struct {
	IdentifierType string
	Value          string
	IsPattern      bool
	Reason         string
}

// Mapping says where one identifier type is found in one source.
type Mapping struct {
	TableID        string
	IdentifierType string
	Expr           string
	Normalize      bool
}

// Attribute is one golden-profile attribute expression of one source.
type Attribute struct {
	TableID string
	Name    string
	Expr    string
}

// Config is validated configuration for one run.
type Config struct {
	Sources     []Source
	Rules       []Rule
	Exclusions  []Exclusion
	Mappings    []Mapping
	Attributes  []Attribute       // explicit and defaulted (same-named source column) expressions
	AttrNames   []string          // golden profile attribute columns after the fixed ones, in order
	Normalizers map[string]string // identifier type -> normalizer name
	Warnings    []string
}

// DefaultAttributes are golden-profile attributes every profile has; a source column of the same
// name feeds them when no entity_attribute_mapping row says otherwise.
var DefaultAttributes = []string{"first_name", "last_name"}

// reservedColumns of golden_profile_current that an attribute may not take.
var reservedColumns = map[string]bool{"resolved_id": true, "email_primary": true, "phone_primary": true, "updated_ts": true}

var attrNameRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// Normalizer returns the normalizer used for an identifier type.
func (c *Config) Normalizer(identifierType string) string {
	if n, ok := c.Normalizers[identifierType]; ok {
		return n
	}
	return dialect.DefaultNormalizer(identifierType)
}

// Source returns the active source with this table_id.
func (c *Config) Source(tableID string) (Source, bool) {
	for _, s := range c.Sources {
		if s.TableID == tableID {
			return s, true
		}
	}
	return Source{}, false
}

func str(v any) string {
	s, _ := engine.Text(v)
	return s
}

func isNull(v any) bool { return v == nil }

func boolOf(v any) (bool, bool) {
	b, ok := v.(bool)
	return b, ok
}

func intOf(v any) (int64, bool) { return engine.Int(v) }

func query(ctx context.Context, eng engine.Engine, table, columns string) ([][]any, error) {
	res, err := eng.Query(ctx, "SELECT "+columns+" FROM "+table)
	if err != nil {
		return nil, errs.Wrap(errs.KindConfig, err, "run `idr init` on this database", "cannot read %s", table)
	}
	return res.Rows, nil
}

// Load reads and validates the configuration, including that every source table exists and
// every expression binds against it.
func Load(ctx context.Context, eng engine.Engine) (*Config, error) {
	cfg := &Config{Normalizers: map[string]string{}}
	if err := loadSources(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadRules(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadNormalizers(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadExclusions(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadMappings(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadAttributes(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := loadSoftDeletes(ctx, eng, cfg); err != nil {
		return nil, err
	}
	if err := bindCheck(ctx, eng, cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

func loadSources(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.source_table"
	rows, err := query(ctx, eng, t, "table_id, table_fqn, entity_type, entity_key_expr, watermark_column, watermark_lookback_minutes, is_active")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	registered := map[string]bool{}
	var inactive []string
	for i, r := range rows {
		id := strings.TrimSpace(str(r[0]))
		where := fmt.Sprintf("%s row %d", t, i+1)
		if id != "" {
			where = fmt.Sprintf("%s table_id %q", t, id)
		}
		if id == "" {
			return errs.Config("give every source a table_id", "%s: table_id is empty", where)
		}
		if seen[id] {
			return errs.Config("delete the duplicate row", "%s: table_id is registered twice", where)
		}
		seen[id] = true
		registered[id] = true
		active, ok := boolOf(r[6])
		if !ok {
			return errs.Config("set is_active to TRUE or FALSE", "%s: is_active is NULL", where)
		}
		if !active {
			inactive = append(inactive, id)
			continue
		}
		src := Source{TableID: id, FQN: strings.TrimSpace(str(r[1])), EntityType: str(r[2]),
			KeyExpr: str(r[3]), WatermarkColumn: strings.TrimSpace(str(r[4]))}
		if err := sqltext.CheckTableName(src.FQN); err != nil {
			return errs.Config("set table_fqn to the name of a table or view", "%s: table_fqn %s", where, err)
		}
		if err := sqltext.CheckExpression(src.KeyExpr); err != nil {
			return errs.Config("set entity_key_expr to one SQL expression over the table's columns", "%s: entity_key_expr %q: %s", where, src.KeyExpr, err)
		}
		if src.WatermarkColumn != "" {
			if err := sqltext.CheckExpression(src.WatermarkColumn); err != nil {
				return errs.Config("set watermark_column to a column (or expression) of the table, or NULL", "%s: watermark_column %q: %s", where, src.WatermarkColumn, err)
			}
		}
		if !isNull(r[5]) {
			n, ok := intOf(r[5])
			if !ok || n < 0 {
				return errs.Config("set watermark_lookback_minutes to 0 or more", "%s: watermark_lookback_minutes is %v", where, r[5])
			}
			src.LookbackMinutes = n
		}
		cfg.Sources = append(cfg.Sources, src)
	}

	const ts = "idr_meta.source"
	rows, err = query(ctx, eng, ts, "table_id, source_name, trust_rank, is_active")
	if err != nil {
		return err
	}
	seenSrc := map[string]bool{}
	for i, r := range rows {
		id := strings.TrimSpace(str(r[0]))
		where := fmt.Sprintf("%s row %d (table_id %q)", ts, i+1, id)
		if !registered[id] {
			return errs.Config("register it in idr_meta.source_table or delete the row", "%s: table_id is not in idr_meta.source_table", where)
		}
		if seenSrc[id] {
			return errs.Config("delete the duplicate row", "%s: table_id appears twice", where)
		}
		seenSrc[id] = true
		active, ok := boolOf(r[3])
		if ok && !active {
			// An inactive idr_meta.source row switches its table off as well.
			for j := range cfg.Sources {
				if cfg.Sources[j].TableID == id {
					cfg.Sources = append(cfg.Sources[:j], cfg.Sources[j+1:]...)
					inactive = append(inactive, id)
					break
				}
			}
			continue
		}
		for j := range cfg.Sources {
			if cfg.Sources[j].TableID != id {
				continue
			}
			cfg.Sources[j].SourceName = str(r[1])
			if !isNull(r[2]) {
				n, ok := intOf(r[2])
				if !ok {
					return errs.Config("set trust_rank to an integer (1 = most trusted)", "%s: trust_rank is %v", where, r[2])
				}
				cfg.Sources[j].TrustRank = &n
			}
		}
	}
	for _, s := range cfg.Sources {
		if s.TrustRank == nil {
			cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("source %s has no trust_rank in idr_meta.source: it ranks after every ranked source in golden profiles", s.TableID))
		}
	}
	if len(cfg.Sources) == 0 {
		hint := "register a source with INSERT INTO idr_meta.source_table VALUES (...)"
		if len(inactive) > 0 {
			hint = "set is_active = TRUE for one of: " + strings.Join(inactive, ", ")
		}
		return errs.Config(hint, "no active source in idr_meta.source_table")
	}
	return nil
}

func loadRules(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.rule"
	rows, err := query(ctx, eng, t, "rule_id, identifier_type, priority, is_active, max_group_size")
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	byType := map[string]string{}
	for i, r := range rows {
		id := strings.TrimSpace(str(r[0]))
		where := fmt.Sprintf("%s row %d (rule_id %q)", t, i+1, id)
		if id == "" {
			return errs.Config("give every rule a rule_id", "%s: rule_id is empty", where)
		}
		if seen[id] {
			return errs.Config("rule ids must be unique: delete or rename one of them", "%s: duplicate rule_id %q", where, id)
		}
		seen[id] = true
		typ := strings.TrimSpace(str(r[1]))
		if typ == "" {
			return errs.Config("set identifier_type", "%s: identifier_type is empty", where)
		}
		active, ok := boolOf(r[3])
		if !ok {
			return errs.Config("set is_active to TRUE or FALSE", "%s: is_active is NULL", where)
		}
		max, ok := intOf(r[4])
		if !ok || max <= 0 {
			return errs.Config("set max_group_size to a positive number (the largest group that still links)", "%s: max_group_size is %v", where, r[4])
		}
		if !active {
			continue
		}
		if other, dup := byType[typ]; dup {
			return errs.Config("keep one active rule per identifier type", "%s: identifier type %s already has active rule %q", where, typ, other)
		}
		byType[typ] = id
		prio, _ := intOf(r[2])
		cfg.Rules = append(cfg.Rules, Rule{ID: id, IdentifierType: typ, Priority: prio, MaxGroupSize: max})
	}
	sort.SliceStable(cfg.Rules, func(i, j int) bool { return cfg.Rules[i].Priority < cfg.Rules[j].Priority })
	if len(cfg.Rules) == 0 {
		return errs.Config("add one with INSERT INTO idr_meta.rule VALUES (...) or set is_active = TRUE", "no active rule in idr_meta.rule")
	}
	return nil
}

// RuleFor returns the active rule of an identifier type.
func (c *Config) RuleFor(identifierType string) (Rule, bool) {
	for _, r := range c.Rules {
		if r.IdentifierType == identifierType {
			return r, true
		}
	}
	return Rule{}, false
}

func loadNormalizers(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.identifier_normalizer"
	rows, err := query(ctx, eng, t, "identifier_type, normalizer")
	if err != nil {
		return err
	}
	for i, r := range rows {
		typ, n := strings.TrimSpace(str(r[0])), strings.ToUpper(strings.TrimSpace(str(r[1])))
		where := fmt.Sprintf("%s row %d (identifier_type %q)", t, i+1, typ)
		if !dialect.IsNormalizer(n) {
			return errs.Config("use one of "+strings.Join(dialect.Normalizers, ", "), "%s: unknown normalizer %q", where, str(r[1]))
		}
		if _, dup := cfg.Normalizers[typ]; dup {
			return errs.Config("keep one normalizer per identifier type", "%s: identifier type appears twice", where)
		}
		cfg.Normalizers[typ] = n
	}
	return nil
}

func loadExclusions(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.identifier_exclusion"
	rows, err := query(ctx, eng, t, "identifier_type, identifier_value_pattern, is_pattern, reason")
	if err != nil {
		return err
	}
	for i, r := range rows {
		where := fmt.Sprintf("%s row %d", t, i+1)
		typ := strings.TrimSpace(str(r[0]))
		if typ == "" {
			return errs.Config("set identifier_type", "%s: identifier_type is empty", where)
		}
		if isNull(r[1]) || str(r[1]) == "" {
			return errs.Config("set identifier_value_pattern to a value or LIKE pattern", "%s: identifier_value_pattern is empty", where)
		}
		isPattern, ok := boolOf(r[2])
		if !ok {
			return errs.Config("set is_pattern to TRUE (LIKE pattern) or FALSE (exact value)", "%s: is_pattern is NULL", where)
		}
		if isPattern {
			trailing := len(str(r[1])) - len(strings.TrimRight(str(r[1]), `\`))
			if trailing%2 == 1 {
				return errs.Config(`write \\ for a literal backslash, or drop the trailing \`, "%s: LIKE pattern %q ends with the escape character", where, str(r[1]))
			}
		}
		cfg.Exclusions = append(cfg.Exclusions, Exclusion{IdentifierType: typ, Value: str(r[1]), IsPattern: isPattern, Reason: str(r[3])})
	}
	return nil
}

func loadMappings(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.identifier_mapping"
	rows, err := query(ctx, eng, t, "table_id, identifier_type, identifier_value_expr, requires_normalization")
	if err != nil {
		return err
	}
	registered, err := registeredTables(ctx, eng)
	if err != nil {
		return err
	}
	for i, r := range rows {
		m := Mapping{TableID: strings.TrimSpace(str(r[0])), IdentifierType: strings.TrimSpace(str(r[1])), Expr: str(r[2])}
		where := fmt.Sprintf("%s row %d (%s, %s)", t, i+1, m.TableID, m.IdentifierType)
		if !registered[m.TableID] {
			return errs.Config("register the table in idr_meta.source_table or fix the table_id", "%s: unknown table_id %q", where, m.TableID)
		}
		if _, active := cfg.Source(m.TableID); !active {
			continue
		}
		if _, ok := cfg.RuleFor(m.IdentifierType); !ok {
			return errs.Config("add an active rule for it in idr_meta.rule, or delete the mapping", "%s: identifier type %s has no active rule", where, m.IdentifierType)
		}
		if err := sqltext.CheckExpression(m.Expr); err != nil {
			return errs.Config("set identifier_value_expr to one SQL expression over the table's columns", "%s: identifier_value_expr %q: %s", where, m.Expr, err)
		}
		norm, ok := boolOf(r[3])
		m.Normalize = !ok || norm
		cfg.Mappings = append(cfg.Mappings, m)
	}
	if len(cfg.Mappings) == 0 {
		return errs.Config("map at least one identifier with INSERT INTO idr_meta.identifier_mapping VALUES (...)", "no identifier mapping for any active source")
	}
	return nil
}

func loadSoftDeletes(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.source_soft_delete"
	rows, err := query(ctx, eng, t, "table_id, deleted_expr")
	if err != nil {
		return err
	}
	registered, err := registeredTables(ctx, eng)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, r := range rows {
		id, expr := strings.TrimSpace(str(r[0])), str(r[1])
		where := fmt.Sprintf("%s row %d (%s)", t, i+1, id)
		if !registered[id] {
			return errs.Config("register the table in idr_meta.source_table or fix the table_id", "%s: unknown table_id %q", where, id)
		}
		if seen[id] {
			return errs.Config("keep one soft-delete expression per source (combine conditions with OR)", "%s: table_id appears twice", where)
		}
		seen[id] = true
		if err := sqltext.CheckExpression(expr); err != nil {
			return errs.Config("set deleted_expr to one boolean SQL expression over the table's columns", "%s: deleted_expr %q: %s", where, expr, err)
		}
		for j := range cfg.Sources {
			if cfg.Sources[j].TableID == id {
				cfg.Sources[j].DeletedExpr = expr
			}
		}
	}
	return nil
}

// Fingerprint identifies everything in the configuration that shapes the outputs. An incremental
// run is only equal to a full one if the configuration is the one the current outputs were made
// with; when the fingerprint differs, INCR recomputes everything.
func (c *Config) Fingerprint() string {
	var lines []string
	w := func(parts ...any) { lines = append(lines, fmt.Sprintf("%q", parts)) }
	for _, s := range c.Sources {
		rank := "none"
		if s.TrustRank != nil {
			rank = fmt.Sprint(*s.TrustRank)
		}
		w("source", s.TableID, s.FQN, s.KeyExpr, s.WatermarkColumn, s.LookbackMinutes, rank, s.DeletedExpr)
	}
	for _, r := range c.Rules {
		w("rule", r.ID, r.IdentifierType, r.MaxGroupSize)
	}
	for _, x := range c.Exclusions {
		w("exclusion", x.IdentifierType, x.Value, x.IsPattern)
	}
	for _, m := range c.Mappings {
		w("mapping", m.TableID, m.IdentifierType, m.Expr, m.Normalize, c.Normalizer(m.IdentifierType))
	}
	for _, a := range c.Attributes {
		w("attribute", a.TableID, a.Name, a.Expr)
	}
	sort.Strings(lines) // rows come in table order, which must not matter
	w("attributes", c.AttrNames)
	h := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(h[:])
}

func registeredTables(ctx context.Context, eng engine.Engine) (map[string]bool, error) {
	rows, err := query(ctx, eng, "idr_meta.source_table", "table_id")
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, r := range rows {
		out[strings.TrimSpace(str(r[0]))] = true
	}
	return out, nil
}

func loadAttributes(ctx context.Context, eng engine.Engine, cfg *Config) error {
	const t = "idr_meta.entity_attribute_mapping"
	rows, err := query(ctx, eng, t, "table_id, attribute_name, attribute_expr")
	if err != nil {
		return err
	}
	registered, err := registeredTables(ctx, eng)
	if err != nil {
		return err
	}
	names := append([]string(nil), DefaultAttributes...)
	explicit := map[[2]string]bool{}
	for i, r := range rows {
		a := Attribute{TableID: strings.TrimSpace(str(r[0])), Name: strings.ToLower(strings.TrimSpace(str(r[1]))), Expr: str(r[2])}
		where := fmt.Sprintf("%s row %d (%s, %s)", t, i+1, a.TableID, a.Name)
		if !registered[a.TableID] {
			return errs.Config("register the table in idr_meta.source_table or fix the table_id", "%s: unknown table_id %q", where, a.TableID)
		}
		if !attrNameRe.MatchString(a.Name) || reservedColumns[a.Name] {
			return errs.Config("use a lower-case name of letters, digits and _ that is not resolved_id, email_primary, phone_primary or updated_ts", "%s: attribute_name %q cannot be a golden profile column", where, str(r[1]))
		}
		if explicit[[2]string{a.TableID, a.Name}] {
			return errs.Config("keep one expression per source and attribute", "%s: attribute is mapped twice for this table", where)
		}
		explicit[[2]string{a.TableID, a.Name}] = true
		if err := sqltext.CheckExpression(a.Expr); err != nil {
			return errs.Config("set attribute_expr to one SQL expression over the table's columns", "%s: attribute_expr %q: %s", where, a.Expr, err)
		}
		if !slices.Contains(names, a.Name) {
			names = append(names, a.Name)
		}
		if _, active := cfg.Source(a.TableID); active {
			cfg.Attributes = append(cfg.Attributes, a)
		}
	}
	cfg.AttrNames = names
	return nil
}

// bindCheck proves that every source table exists and every expression binds against it,
// with LIMIT 0 queries that read no data, then adds the defaulted attribute expressions.
func bindCheck(ctx context.Context, eng engine.Engine, cfg *Config) error {
	for i := range cfg.Sources {
		s := &cfg.Sources[i]
		cols, ok, err := eng.Columns(ctx, s.FQN)
		if err != nil {
			return errs.Wrap(errs.KindSource, err, "check the table's name and that the engine can read it", "source %s: cannot read table %s", s.TableID, s.FQN)
		}
		if !ok {
			return errs.Source("create it, or fix table_fqn in idr_meta.source_table", "source %s: table %s does not exist", s.TableID, s.FQN)
		}
		s.Columns = cols
		check := func(what, expr string) error {
			res, err := eng.Query(ctx, "SELECT ("+expr+") FROM "+s.FQN+" LIMIT 0")
			if err != nil {
				return errs.Wrap(errs.KindSource, err, "fix the expression in idr_meta", "source %s: %s %q does not bind against %s", s.TableID, what, expr, s.FQN)
			}
			if what == "deleted_expr" && len(res.Types) == 1 && !strings.EqualFold(res.Types[0], "BOOLEAN") {
				return errs.Source("make it a condition, e.g. deleted_at IS NOT NULL", "source %s: deleted_expr %q has type %s, not BOOLEAN", s.TableID, expr, res.Types[0])
			}
			if what == "watermark_column" && len(res.Types) == 1 && !timeLike(res.Types[0]) {
				return errs.Source("use a DATE or TIMESTAMP column, or an expression that makes one (e.g. to_timestamp(epoch_seconds))",
					"source %s: watermark_column %q has type %s, not a date or time", s.TableID, expr, res.Types[0])
			}
			return nil
		}
		if err := check("entity_key_expr", s.KeyExpr); err != nil {
			return err
		}
		if s.DeletedExpr != "" {
			if err := check("deleted_expr", s.DeletedExpr); err != nil {
				return err
			}
		}
		if s.WatermarkColumn != "" {
			if err := check("watermark_column", s.WatermarkColumn); err != nil {
				return err
			}
		}
		for _, m := range cfg.Mappings {
			if m.TableID == s.TableID {
				if err := check("identifier_value_expr", m.Expr); err != nil {
					return err
				}
			}
		}
		for _, a := range cfg.Attributes {
			if a.TableID == s.TableID {
				if err := check("attribute_expr", a.Expr); err != nil {
					return err
				}
			}
		}
		// A source column with an attribute's name feeds it unless a mapping says otherwise.
		for _, name := range cfg.AttrNames {
			if hasAttr(cfg.Attributes, s.TableID, name) {
				continue
			}
			for _, c := range cols {
				if strings.EqualFold(c, name) {
					cfg.Attributes = append(cfg.Attributes, Attribute{TableID: s.TableID, Name: name, Expr: eng.Dialect().Ident(c)})
					break
				}
			}
		}
	}
	return nil
}

// timeLike reports whether an engine type name can be read as a timestamp: dates, times and
// text (parsed; values that do not parse become NULL).
func timeLike(typeName string) bool {
	t := strings.ToUpper(typeName)
	return strings.Contains(t, "DATE") || strings.Contains(t, "TIME") || strings.Contains(t, "CHAR") ||
		strings.Contains(t, "STRING") || strings.Contains(t, "TEXT")
}

func hasAttr(as []Attribute, tableID, name string) bool {
	for _, a := range as {
		if a.TableID == tableID && a.Name == name {
			return true
		}
	}
	return false
}
