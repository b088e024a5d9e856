package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/idr-dev/idr/internal/errs"
	"github.com/idr-dev/idr/internal/htmlreport"
	"github.com/idr-dev/idr/internal/schema"
)

func newReport(e *env) *cobra.Command {
	var db, out string
	var top int
	c := &cobra.Command{
		Use:   "report (--db=PATH | --engine=spark --remote=URL) --out=report.html [--top=N]",
		Short: "Write a self-contained HTML report: runs, clusters, sources, skipped groups and a cluster graph explorer",
		Long: "report writes one HTML file that needs no network access to view: the latest run and the run history,\n" +
			"cluster size distribution, the largest clusters, per-source contribution, identifiers, skipped groups and\n" +
			"exclusions, and an interactive graph of each of the --top largest clusters, with a search by entity key or\n" +
			"identifier value. It embeds summaries and capped samples, never every row (see docs/report.md).",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errs.Usage("pass --out=report.html", "no output file given")
			}
			if top <= 0 || top > htmlreport.MaxTop {
				return errs.Usage(fmt.Sprintf("pass a number from 1 to %d", htmlreport.MaxTop), "--top=%d", top)
			}
			if st, err := os.Stat(out); err == nil && st.IsDir() {
				return errs.Usage("pass a file name, e.g. --out="+filepath.Join(out, "report.html"), "--out=%s is a directory", out)
			}
			if dir := filepath.Dir(out); dir != "" {
				if st, err := os.Stat(dir); err != nil || !st.IsDir() {
					return errs.Usage("create the directory first or pass another --out", "directory %s of --out does not exist", dir)
				}
			}
			client, err := open(cmd.Context(), db, true)
			if err != nil {
				return err
			}
			defer client.Close()
			if err := schema.Check(cmd.Context(), client.Engine()); err != nil {
				return err
			}
			// The page names the database without a path (or, on Spark, without the server's URL and token).
			name := filepath.Base(db)
			if _, ok := targetOf(cmd.Context()); ok {
				name = "Spark catalog"
			}
			data, err := htmlreport.Gather(cmd.Context(), client.Engine(), htmlreport.Options{Top: top, Database: name})
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := htmlreport.Render(&buf, data); err != nil {
				return errs.Wrap(errs.KindRun, err, "", "cannot render the report")
			}
			// Written only once complete, so a failure leaves no half-written report behind.
			tmp := out + ".tmp"
			if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
				return errs.Wrap(errs.KindUsage, err, "pass a writable --out", "cannot write %s", out)
			}
			if err := os.Rename(tmp, out); err != nil {
				os.Remove(tmp)
				return errs.Wrap(errs.KindUsage, err, "pass a writable --out", "cannot write %s", out)
			}
			fmt.Fprintf(e.stdout, "wrote %s (%s, %d clusters listed, %d graphs, %d search entries)\n", out, byteSize(buf.Len()),
				len(data.Clusters), data.Caps.GraphsEmbedded, len(data.Index.Keys)+len(data.Index.Values))
			return nil
		},
	}
	dbFlag(c, &db)
	engineFlags(c)
	c.Flags().StringVar(&out, "out", "", "HTML file to write")
	c.Flags().IntVar(&top, "top", htmlreport.DefaultTop, "how many of the largest clusters to list and embed graphs of")
	return c
}

func byteSize(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
