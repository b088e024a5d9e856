// Package spark is the engine for Apache Spark reached through Spark Connect (a local server, a
// cluster, or Databricks). Every statement runs inside Spark; only small results (configuration,
// counts, `idr sql` output) come back to the client. Connected components run as Spark SQL in
// rounds of large-star/small-star, each round materialized to a table (components.go).
//
// Spark has no multi-statement transactions. Atomic relies on Delta Lake's table versions: it
// records the version of every idr_meta and idr_out table before the publishing statements and,
// if they fail, restores each table that changed (see Atomic). idr's tables must therefore be
// Delta tables, which they are when the server's default table format is Delta (Databricks, or
// spark.sql.sources.default=delta with the Delta Lake extension, as scripts/spark/start.sh sets).
package spark

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/spark-connect-go/spark/client/channel"
	"github.com/apache/spark-connect-go/spark/sparkerrors"
	"github.com/apache/spark-connect-go/spark/sql"
	"github.com/apache/spark-connect-go/spark/sql/types"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/idr-dev/idr/engine"
	"github.com/idr-dev/idr/internal/dialect"
	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/sqltext"
)

// Engine is a Spark Connect session. Statements run one at a time, in order.
type Engine struct {
	remote  string // the URL as given, token hidden: for messages
	session sql.SparkSession
	opts    Options
	mu      sync.Mutex // serializes statements, so Atomic's journal sees them in order
	conn    *grpc.ClientConn
}

// closingBuilder keeps the gRPC connection the client library opens, which the library's
// session never closes (its Stop does nothing), so that Close can.
type closingBuilder struct {
	*channel.BaseBuilder
	conn *grpc.ClientConn
}

func (b *closingBuilder) Build(ctx context.Context) (*grpc.ClientConn, error) {
	conn, err := b.BaseBuilder.Build(ctx)
	b.conn = conn
	return conn, err
}

var _ engine.Engine = (*Engine)(nil)

// Options tune a connection.
type Options struct {
	// Settings are Spark SQL session settings applied on connect (SET key = value), e.g.
	// spark.sql.shuffle.partitions.
	Settings map[string]string
	// MaxRounds caps the large-star/small-star steps of Components; 0 means 200, far above
	// the 2·log2(n)+O(1) steps a graph of n nodes needs.
	MaxRounds int
	// DialTimeout bounds the first TCP connection to the server; 0 means 10 seconds.
	DialTimeout time.Duration
}

// DefaultPort is Spark Connect's port when the URL names none.
const DefaultPort = 15002

// Open connects to the Spark Connect server at remote (sc://HOST[:PORT][/][;token=...;...])
// and checks that it answers. The session's time zone is UTC, as idr's timestamps are.
func Open(ctx context.Context, remote string, opts Options) (*Engine, error) {
	normal, shown, host, err := ParseRemote(remote)
	if err != nil {
		return nil, err
	}
	timeout := opts.DialTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	// gRPC connects lazily and retries an unreachable server for minutes; a plain dial first
	// turns "nothing listens there" into one prompt error.
	conn, err := (&net.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, unreachable(shown, err)
	}
	conn.Close()
	builder, err := channel.NewBuilder(normal)
	if err != nil {
		return nil, errs.Usage("pass --remote=sc://HOST:PORT, with ;token=TOKEN for a server that needs one",
			"bad Spark Connect URL %s: %v", shown, err)
	}
	cb := &closingBuilder{BaseBuilder: builder}
	session, err := sql.NewSessionBuilder().WithChannelBuilder(cb).Build(ctx)
	if err != nil {
		return nil, unreachable(shown, err)
	}
	e := &Engine{remote: shown, session: session, opts: opts, conn: cb.conn}
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := e.Exec(pingCtx, "SET spark.sql.session.timeZone = UTC"); err != nil {
		e.Close()
		var se *Error
		if errors.As(err, &se) && se.Code != codes.Unavailable && se.Code != codes.DeadlineExceeded {
			return nil, errs.Wrap(errs.KindConfig, err, "check the token and the server's logs", "Spark Connect server at %s refused the session", shown)
		}
		return nil, unreachable(shown, err)
	}
	for k, v := range opts.Settings {
		if err := e.Exec(ctx, "SET "+k+" = "+v); err != nil {
			e.Close()
			return nil, errs.Wrap(errs.KindConfig, err, "check the setting's name and value", "cannot apply Spark setting %s=%s", k, v)
		}
	}
	return e, nil
}

func unreachable(shown string, err error) error {
	return errs.Wrap(errs.KindConfig, err, "start a Spark Connect server there (scripts/spark/start.sh starts one on this machine), or fix --remote",
		"cannot reach the Spark Connect server at %s", shown)
}

var tokenParam = regexp.MustCompile(`(?i)(;token=)[^;]*`)

// ParseRemote checks a Spark Connect URL and returns it in the form the client library parses
// (sc://HOST:PORT/;params), the form to show in messages (token hidden) and HOST:PORT.
// It accepts sc://HOST:PORT;token=... as well as the canonical sc://HOST:PORT/;token=....
func ParseRemote(remote string) (normal, shown, hostPort string, err error) {
	shown = tokenParam.ReplaceAllString(remote, "${1}…")
	bad := func(why string) (string, string, string, error) {
		return "", "", "", errs.Usage("pass --remote=sc://HOST:PORT, with ;token=TOKEN for a server that needs one (Databricks: sc://WORKSPACE-HOST:443/;token=TOKEN;x-databricks-cluster-id=CLUSTER)",
			"bad Spark Connect URL %q: %s", shown, why)
	}
	if !strings.HasPrefix(remote, "sc://") {
		return bad("it must start with sc://")
	}
	rest := strings.TrimPrefix(remote, "sc://")
	authority, params := rest, ""
	if i := strings.IndexAny(rest, "/;"); i >= 0 {
		authority, params = rest[:i], strings.TrimPrefix(rest[i:], "/")
	}
	if params != "" && !strings.HasPrefix(params, ";") {
		return bad("parameters follow the host as ;name=value")
	}
	if authority == "" {
		return bad("it names no host")
	}
	host, port := authority, strconv.Itoa(DefaultPort)
	if h, p, err := net.SplitHostPort(authority); err == nil {
		host, port = h, p
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return bad("the port is not a number from 1 to 65535")
	}
	if _, err := url.Parse("sc://" + authority); err != nil || host == "" {
		return bad("the host is not valid")
	}
	hostPort = net.JoinHostPort(host, port)
	normal = "sc://" + hostPort
	if params != "" {
		normal += "/" + params
	}
	return normal, shown, hostPort, nil
}

func (e *Engine) Name() string             { return "spark" }
func (e *Engine) Dialect() dialect.Dialect { return dialect.Spark{} }

// Remote is the server's URL as given, with any token hidden.
func (e *Engine) Remote() string { return e.remote }

// Error is an error Spark reported, cut to its first line (Spark appends the analyzed plan).
type Error struct {
	Class string // Spark's error class, e.g. TABLE_OR_VIEW_NOT_FOUND
	State string // SQLSTATE
	Code  codes.Code
	Msg   string
}

func (e *Error) Error() string { return e.Msg }

var sqlstateTail = regexp.MustCompile(`\s*SQLSTATE: \w+;?.*$`)

// wrap turns a client library error into an *Error with Spark's message, without the statement
// (the library repeats it) or the plan.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var se *sparkerrors.SparkError
	if !errors.As(err, &se) {
		return err
	}
	msg := se.Message
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.TrimSpace(sqlstateTail.ReplaceAllString(msg, ""))
	if msg == "" {
		msg = se.Code.String()
	}
	if se.Code == codes.Unavailable {
		msg = "Spark Connect server unavailable: " + msg
	}
	return &Error{Class: se.ErrorClass, State: se.SqlState, Code: se.Code, Msg: msg}
}

func (e *Engine) sql(ctx context.Context, stmt string) (sql.DataFrame, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	df, err := e.session.Sql(ctx, sparkLiterals(stmt))
	return df, wrap(err)
}

// Exec runs one statement, or each statement of a ;-separated script in order (Spark runs one
// statement per request); it stops at the first error.
func (e *Engine) Exec(ctx context.Context, stmt string) error {
	if !strings.Contains(stmt, ";") {
		_, err := e.sql(ctx, stmt)
		return err
	}
	stmts, err := sqltext.Split(stmt)
	if err != nil {
		return err
	}
	for _, s := range stmts {
		if _, err := e.sql(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// Query runs stmt and reads its whole result, converting Arrow values to the Go types the
// DuckDB engine returns: int32/int64, float64, string, bool, time.Time (UTC), *big.Int for
// whole decimals that do not fit an int64.
func (e *Engine) Query(ctx context.Context, stmt string) (*engine.Result, error) {
	df, err := e.sql(ctx, stmt)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	tbl, err := df.ToArrow(ctx)
	if err != nil {
		return nil, wrap(err)
	}
	if tbl == nil || *tbl == nil {
		// No rows: the library returns no table, so read the columns from the analyzed plan.
		schema, err := df.Schema(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		res := &engine.Result{}
		for _, f := range schema.Fields {
			res.Columns = append(res.Columns, f.Name)
			res.Types = append(res.Types, sparkTypeName(f.DataType))
		}
		return res, nil
	}
	t := *tbl
	defer t.Release()
	return readTable(t)
}

func readTable(t arrow.Table) (*engine.Result, error) {
	res := &engine.Result{}
	ncols := int(t.NumCols())
	for _, f := range t.Schema().Fields() {
		res.Columns = append(res.Columns, f.Name)
		res.Types = append(res.Types, arrowTypeName(f.Type))
	}
	res.Rows = make([][]any, t.NumRows())
	for i := range res.Rows {
		res.Rows[i] = make([]any, ncols)
	}
	for c := 0; c < ncols; c++ {
		row := 0
		for _, chunk := range t.Column(c).Data().Chunks() {
			for i := 0; i < chunk.Len(); i++ {
				v, err := value(chunk, i)
				if err != nil {
					return nil, fmt.Errorf("column %s: %w", res.Columns[c], err)
				}
				res.Rows[row][c] = v
				row++
			}
		}
	}
	return res, nil
}

func value(a arrow.Array, i int) (any, error) {
	if a.IsNull(i) {
		return nil, nil
	}
	switch x := a.(type) {
	case *array.Boolean:
		return x.Value(i), nil
	case *array.Int8:
		return int32(x.Value(i)), nil
	case *array.Int16:
		return int32(x.Value(i)), nil
	case *array.Int32:
		return x.Value(i), nil
	case *array.Int64:
		return x.Value(i), nil
	case *array.Float32:
		return float64(x.Value(i)), nil
	case *array.Float64:
		return x.Value(i), nil
	case *array.String:
		return x.Value(i), nil
	case *array.LargeString:
		return x.Value(i), nil
	case *array.Binary:
		return append([]byte(nil), x.Value(i)...), nil
	case *array.Timestamp:
		unit := x.DataType().(*arrow.TimestampType).Unit
		return x.Value(i).ToTime(unit).UTC(), nil
	case *array.Date32:
		return x.Value(i).ToTime().UTC(), nil
	case *array.Decimal128:
		dt := x.DataType().(*arrow.Decimal128Type)
		return decimalValue(x.Value(i), dt.Scale), nil
	default:
		return a.ValueStr(i), nil
	}
}

func decimalValue(n decimal128.Num, scale int32) any {
	if scale == 0 {
		b := n.BigInt()
		if b.IsInt64() {
			return b.Int64()
		}
		return b
	}
	f, _ := new(big.Float).SetInt(n.BigInt()).Float64()
	for s := scale; s > 0; s-- {
		f /= 10
	}
	return f
}

func arrowTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INT"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT32:
		return "FLOAT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.STRING, arrow.LARGE_STRING:
		return "STRING"
	case arrow.BINARY:
		return "BINARY"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.DATE32:
		return "DATE"
	case arrow.DECIMAL128:
		d := t.(*arrow.Decimal128Type)
		return fmt.Sprintf("DECIMAL(%d,%d)", d.Precision, d.Scale)
	default:
		return strings.ToUpper(t.Name())
	}
}

func sparkTypeName(t types.DataType) string {
	switch x := t.(type) {
	case types.BooleanType:
		return "BOOLEAN"
	case types.ByteType:
		return "TINYINT"
	case types.ShortType:
		return "SMALLINT"
	case types.IntegerType:
		return "INT"
	case types.LongType:
		return "BIGINT"
	case types.FloatType:
		return "FLOAT"
	case types.DoubleType:
		return "DOUBLE"
	case types.StringType:
		return "STRING"
	case types.BinaryType:
		return "BINARY"
	case types.TimestampType:
		return "TIMESTAMP"
	case types.TimestampNtzType:
		return "TIMESTAMP_NTZ"
	case types.DateType:
		return "DATE"
	case types.DecimalType:
		return fmt.Sprintf("DECIMAL(%d,%d)", x.Precision, x.Scale)
	default:
		return strings.ToUpper(t.TypeName())
	}
}

// notFound reports whether err says a table, view or schema does not exist.
func notFound(err error) bool {
	var se *Error
	if !errors.As(err, &se) {
		return false
	}
	return strings.HasPrefix(se.Class, "TABLE_OR_VIEW_NOT_FOUND") || strings.HasPrefix(se.Class, "SCHEMA_NOT_FOUND") ||
		se.State == "42P01" || se.State == "3F000"
}

func (e *Engine) Columns(ctx context.Context, table string) ([]string, bool, error) {
	res, err := e.Query(ctx, "SELECT * FROM "+table+" LIMIT 0")
	if err != nil {
		if notFound(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return res.Columns, true, nil
}

// Close closes the connection. The server's tables stay.
func (e *Engine) Close() error {
	err := e.session.Stop()
	if e.conn != nil {
		if cerr := e.conn.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// hostName names this client in the run lock, for the message a second run gets.
func hostName() string {
	h, err := os.Hostname()
	if err != nil {
		return "unknown host"
	}
	return h
}
