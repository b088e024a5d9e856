// Package sparktest gives a test package a Spark Connect server for the duration of its tests:
//
//	func TestMain(m *testing.M) { os.Exit(sparktest.Main(m)) }
//
// Main starts one with the project's scripts/spark/start.sh (local[2], Delta Lake, a temporary
// warehouse; the runtime is installed by scripts/spark/install.sh and cached), runs the tests
// and stops it. IDR_SPARK_REMOTE=sc://HOST:PORT uses a running server instead. Tests skip,
// saying so, only when IDR_SKIP_SPARK is set; a server that does not start fails them.
package sparktest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idr-dev/idr/engine/spark"
)

var (
	remote   string
	startErr error
	skip     string
)

// Main starts the server, runs m and stops the server; it returns m's exit code.
func Main(m *testing.M) int {
	switch {
	case os.Getenv("IDR_SKIP_SPARK") != "":
		skip = "IDR_SKIP_SPARK is set: Spark tests skipped"
		return m.Run()
	case os.Getenv("IDR_SPARK_REMOTE") != "":
		remote = os.Getenv("IDR_SPARK_REMOTE")
		return m.Run()
	}
	state, err := os.MkdirTemp("", "idr-spark-")
	if err != nil {
		startErr = err
		return m.Run()
	}
	scripts, err := scriptsDir()
	if err == nil {
		remote, err = run(filepath.Join(scripts, "start.sh"), state)
	}
	if err != nil {
		startErr = fmt.Errorf("starting a Spark Connect server: %w", err)
	} else {
		defer func() {
			if _, err := run(filepath.Join(scripts, "stop.sh"), state); err != nil {
				fmt.Fprintln(os.Stderr, "sparktest: stopping the Spark Connect server:", err)
			}
		}()
	}
	if startErr != nil {
		os.RemoveAll(state)
	}
	return m.Run()
}

// Remote is the server's URL; it skips t when IDR_SKIP_SPARK is set and fails it when the
// server did not start.
func Remote(t testing.TB) string {
	t.Helper()
	if skip != "" {
		t.Skip(skip)
	}
	if startErr != nil {
		t.Fatalf("%v (set IDR_SKIP_SPARK=1 to skip the Spark tests)", startErr)
	}
	if remote == "" {
		t.Fatal("sparktest.Remote called without sparktest.Main in TestMain")
	}
	return remote
}

// Open connects a new session to the server, closed when t ends.
func Open(t testing.TB) *spark.Engine {
	t.Helper()
	url := Remote(t)
	e, err := spark.Open(context.Background(), url, spark.Options{})
	if err != nil {
		t.Fatalf("open Spark at %s: %v", url, err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// scriptsDir finds scripts/spark from the test's working directory (its package directory).
func scriptsDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "spark")
		if _, err := os.Stat(filepath.Join(p, "start.sh")); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("scripts/spark/start.sh not found above the test's directory")
		}
		dir = parent
	}
}

// run runs a script with one argument and returns its last line of output.
func run(script, arg string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute) // the first install downloads Spark
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script, arg)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v: %s", filepath.Base(script), err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	return lines[len(lines)-1], nil
}
