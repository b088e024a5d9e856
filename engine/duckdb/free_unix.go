//go:build unix

package duckdb

import "golang.org/x/sys/unix"

// statFree is the space free to an unprivileged writer on dir's file system; -1 when unknown.
func statFree(dir string) int64 {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}
