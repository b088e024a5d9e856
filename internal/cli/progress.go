package cli

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/idr-dev/idr/internal/report"
)

// progress prints one line per finished stage; on a terminal it also shows a spinner with the
// elapsed time while a stage runs, so long stages visibly make progress.
type progress struct {
	w   io.Writer
	tty bool
	bar *progressbar.ProgressBar
}

func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	return &progress{w: w, tty: ok && term.IsTerminal(int(f.Fd()))}
}

func (p *progress) StageStart(name string) {
	if !p.tty {
		return
	}
	p.bar = progressbar.NewOptions(-1,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("stage "+name),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionShowElapsedTimeOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	go func(bar *progressbar.ProgressBar) {
		for !bar.IsFinished() {
			_ = bar.Add(1)
			time.Sleep(100 * time.Millisecond)
		}
	}(p.bar)
}

// stop clears a running spinner (a failed stage never reports done).
func (p *progress) stop() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

func (p *progress) StageDone(m report.StageMetric) {
	p.stop()
	fmt.Fprintf(p.w, "idr: %s\n", report.StageLine(m))
}

// Note prints a fact about the run when it becomes known (before the first stage).
func (p *progress) Note(text string) {
	p.stop()
	fmt.Fprintf(p.w, "idr: note: %s\n", text)
}
