package cli

import (
	"bufio"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as the idr command, so crash tests can kill a real idr process.
const asCLIEnv = "IDR_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLIEnv) == "1" {
		os.Exit(Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startPaused starts `idr run` in a child process that stops at a hook point and waits.
func startPaused(t *testing.T, point string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), asCLIEnv+"=1", testPauseEnv+"="+point)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	paused := make(chan string, 1)
	go func() {
		var seen strings.Builder
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			seen.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "paused at "+point) {
				paused <- ""
				for sc.Scan() { // keep draining so the child never blocks on stderr
				}
				return
			}
		}
		paused <- seen.String()
	}()
	select {
	case out := <-paused:
		if out != "" {
			t.Fatalf("idr exited before pausing at %s:\n%s", point, out)
		}
	case <-time.After(2 * time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("idr did not reach %s", point)
	}
	return cmd
}

// changeSources adds a ticket that merges Jane's and Alice's clusters, so a published run
// would visibly differ from the previous outputs.
func changeSources(t *testing.T, db string) {
	mustIdr(t, "sql", "--db="+db, "-c", "INSERT INTO support.tickets VALUES ('T004', 'alice@new.com', '555-987-6543', DATE '2024-03-04')")
}

// withoutHistory drops the run logs of a snapshot: a failed run records its run_history row and
// the stage_metrics of the stages it finished; outputs are everything before them.
func withoutHistory(s string) string {
	i := strings.Index(s, "SELECT * FROM idr_out.stage_metrics")
	return s[:i]
}

func TestKilledRunLeavesOutputsUnchanged(t *testing.T) {
	for _, point := range []string{"before:cluster", "publish:5", "commit"} {
		t.Run(point, func(t *testing.T) {
			db := committedWalkthrough(t)
			changeSources(t, db)
			before := snapshot(t, db)
			cmd := startPaused(t, point, "run", "--db="+db, "--run-mode=FULL")
			// While it runs, a second run on the same database is refused.
			expectRefusedBusy(t, db)
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			after := snapshot(t, db)
			if withoutHistory(after) != withoutHistory(before) {
				t.Fatalf("killed run changed outputs:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			if got := query(t, db, "SELECT count(*) FROM idr_out.run_history WHERE status = 'RUNNING'"); got[0] != "1" {
				t.Fatalf("killed run's history row: %v", got)
			}
			// The next run succeeds, publishes the merge, and marks the killed run as failed.
			mustIdr(t, "run", "--db="+db, "--run-mode=FULL")
			if got := query(t, db, "SELECT resolved_id FROM idr_out.identity_resolved_membership_current WHERE entity_key = 'ecom_orders:O004'"); got[0] != "crm_customers:C002" {
				t.Errorf("after rerun, O004 resolved to %v, want the merged crm_customers:C002", got)
			}
			if got := query(t, db, "SELECT status, error_message LIKE '%ended without finishing%' FROM idr_out.run_history ORDER BY started_ts"); strings.Join(got, ";") != "SUCCESS | NULL;FAILED | true;SUCCESS | NULL" {
				t.Errorf("run_history = %v", got)
			}
		})
	}
}

func expectRefusedBusy(t *testing.T, db string) {
	t.Helper()
	code, _, errOut := idrCmd(t, "", "run", "--db="+db, "--run-mode=FULL")
	if code != 2 || !regexp.MustCompile(`is in use by process \d+`).MatchString(errOut) || !strings.Contains(errOut, "wait for it to finish") {
		t.Errorf("second run while one runs: exit %d, %q", code, errOut)
	}
}

func TestInterruptedRunIsRecordedAsFailed(t *testing.T) {
	db := committedWalkthrough(t)
	changeSources(t, db)
	before := snapshot(t, db)
	cmd := startPaused(t, "publish:3", "run", "--db="+db, "--run-mode=FULL")
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("interrupted run: %v, want exit code 1", err)
	}
	if after := snapshot(t, db); withoutHistory(after) != withoutHistory(before) {
		t.Fatalf("interrupted run changed outputs:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	got := query(t, db, "SELECT status, failed_stage, error_message FROM idr_out.run_history ORDER BY started_ts DESC LIMIT 1")
	if len(got) != 1 || !strings.HasPrefix(got[0], "FAILED | publish | interrupted") {
		t.Fatalf("interrupted run history = %v", got)
	}
}
