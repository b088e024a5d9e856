package htmlreport

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strconv"
	"strings"
)

//go:embed assets/report.html.tmpl
var pageTemplate string

//go:embed assets/report.css
var pageCSS string

//go:embed assets/report.js
var pageJS string

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"n":       thousands,
	"seconds": seconds,
	"inc":     func(i int) int { return i + 1 },
	"int64":   func(i int) int64 { return int64(i) },
	"len64":   func(v any) int64 { return int64(lenOf(v)) },
}).Parse(pageTemplate))

func lenOf(v any) int {
	switch x := v.(type) {
	case []Skipped:
		return len(x)
	case []Exclusion:
		return len(x)
	}
	return 0
}

// Render writes the report page. html/template escapes every value; the data travels as
// JSON inside a script element, escaped for that context too.
func Render(w io.Writer, d *Data) error {
	return page.Execute(w, struct {
		Data *Data
		CSS  template.CSS
		JS   template.JS
	}{d, template.CSS(pageCSS), template.JS(pageJS)})
}

// thousands formats n with comma separators: 1234567 -> 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// seconds formats a duration in seconds for people: 0.20 s, 12.3 s, 4m 05s, 2h 03m.
func seconds(s float64) string {
	switch {
	case s < 10:
		return fmt.Sprintf("%.2f s", s)
	case s < 60:
		return fmt.Sprintf("%.1f s", s)
	case s < 3600:
		return fmt.Sprintf("%dm %02ds", int(s)/60, int(s)%60)
	default:
		return fmt.Sprintf("%dh %02dm", int(s)/3600, int(s)%3600/60)
	}
}
