//go:build !unix

package duckdb

// statFree is unknown (-1) where idr does not read file system statistics; PlaceWork then
// counts no free space for temp files.
func statFree(string) int64 { return -1 }
